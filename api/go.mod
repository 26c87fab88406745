module github.com/ratchet-go/ratchet/api

go 1.26

replace (
	github.com/ratchet-go/ratchet/core => ../core
)
