module github.com/ratchet-go/ratchet/cli

go 1.26

replace (
	github.com/ratchet-go/ratchet/core => ../core
	github.com/ratchet-go/ratchet/api => ../api
	github.com/ratchet-go/ratchet/storage => ../storage
	github.com/ratchet-go/ratchet/runtime => ../runtime
	github.com/ratchet-go/ratchet/resilience => ../resilience
	github.com/ratchet-go/ratchet/caching => ../caching
	github.com/ratchet-go/ratchet/config => ../config
	github.com/ratchet-go/ratchet/plugin => ../plugin
	github.com/ratchet-go/ratchet/lib => ../lib
)
