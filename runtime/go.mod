module github.com/ratchet-go/ratchet/runtime

go 1.26.0

replace (
	github.com/ratchet-go/ratchet/caching => ../caching
	github.com/ratchet-go/ratchet/core => ../core
	github.com/ratchet-go/ratchet/plugin => ../plugin
	github.com/ratchet-go/ratchet/resilience => ../resilience
)

require (
	github.com/dop251/goja v0.0.0-20260917113740-793a2a65c13b
	github.com/google/uuid v1.6.0
	github.com/hashicorp/go-hclog v1.6.3
	github.com/hashicorp/go-plugin v1.8.0
	github.com/ratchet-go/ratchet/caching v0.0.0-00010101000000-000000000000
	github.com/ratchet-go/ratchet/core v0.0.0-00010101000000-000000000000
	github.com/ratchet-go/ratchet/plugin v0.0.0-00010101000000-000000000000
	github.com/ratchet-go/ratchet/resilience v0.0.0-00010101000000-000000000000
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3
	go.uber.org/goleak v1.3.0
	golang.org/x/sys v0.48.0
	golang.org/x/text v0.42.0
	google.golang.org/grpc v1.85.0
	google.golang.org/protobuf v1.36.12
)

require (
	github.com/dlclark/regexp2/v2 v2.5.2 // indirect
	github.com/fatih/color v1.13.0 // indirect
	github.com/go-sourcemap/sourcemap v2.1.3+incompatible // indirect
	github.com/golang/protobuf v1.5.4 // indirect
	github.com/google/pprof v0.0.0-20230207041349-798e818bf904 // indirect
	github.com/hashicorp/golang-lru/v2 v2.0.7 // indirect
	github.com/hashicorp/yamux v0.1.2 // indirect
	github.com/mattn/go-colorable v0.1.12 // indirect
	github.com/mattn/go-isatty v0.0.17 // indirect
	github.com/oklog/run v1.1.0 // indirect
	golang.org/x/net v0.60.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20260817212433-ac3dfec99bb1 // indirect
)

