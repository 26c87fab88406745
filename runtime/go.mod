module github.com/ratchet-go/ratchet/runtime

go 1.26

replace (
	github.com/ratchet-go/ratchet/core => ../core
	github.com/ratchet-go/ratchet/resilience => ../resilience
	github.com/ratchet-go/ratchet/caching => ../caching
)
