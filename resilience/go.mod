module github.com/ratchet-go/ratchet/resilience

go 1.26.0

replace github.com/ratchet-go/ratchet/core => ../core

require go.uber.org/goleak v1.3.0
