module github.com/ratchet-go/ratchet/lib

go 1.26.0

replace (
	github.com/ratchet-go/ratchet/api => ../api
	github.com/ratchet-go/ratchet/caching => ../caching
	github.com/ratchet-go/ratchet/config => ../config
	github.com/ratchet-go/ratchet/core => ../core
	github.com/ratchet-go/ratchet/plugin => ../plugin
	github.com/ratchet-go/ratchet/resilience => ../resilience
	github.com/ratchet-go/ratchet/runtime => ../runtime
	github.com/ratchet-go/ratchet/storage => ../storage
)

require (
	github.com/ratchet-go/ratchet/core v0.0.0-00010101000000-000000000000
	github.com/ratchet-go/ratchet/resilience v0.0.0-00010101000000-000000000000
	github.com/robfig/cron/v3 v3.0.1
	go.uber.org/goleak v1.3.0
	go.yaml.in/yaml/v3 v3.0.4
)

require github.com/kr/text v0.2.0 // indirect
