module github.com/ratchet-go/ratchet/resilience

go 1.26

replace (
	github.com/ratchet-go/ratchet/core => ../core
)
