module github.com/ratchet-go/ratchet/api

go 1.26.0

replace github.com/ratchet-go/ratchet/core => ../core

require (
	github.com/getkin/kin-openapi v0.153.0
	github.com/ratchet-go/ratchet/core v0.0.0-00010101000000-000000000000
	go.yaml.in/yaml/v4 v4.0.0
)

require (
	github.com/go-openapi/jsonpointer v0.22.5 // indirect
	github.com/go-openapi/swag/jsonname v0.25.5 // indirect
	github.com/santhosh-tekuri/jsonschema/v6 v6.0.3 // indirect
	golang.org/x/text v0.14.0 // indirect
)
