module github.com/ratchet-go/ratchet/storage

go 1.26

replace (
	github.com/ratchet-go/ratchet/core => ../core
)
