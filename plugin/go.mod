module github.com/ratchet-go/ratchet/plugin

go 1.26.0

replace github.com/ratchet-go/ratchet/core => ../core
