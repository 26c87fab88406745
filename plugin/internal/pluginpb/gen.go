// Package pluginpb holds the generated gRPC code of the plugin protocol
// (plugin.proto). Do not edit the .pb.go files: change plugin.proto and run
// `go generate ./internal/pluginpb` in the plugin module. It needs protoc
// (3.21+; Debian: apt-get install -y protobuf-compiler) and the generators
//
//	go install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12
//	go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.6.2
//
// on PATH (they install into $(go env GOPATH)/bin).
package pluginpb

//go:generate protoc --go_out=. --go_opt=paths=source_relative --go-grpc_out=. --go-grpc_opt=paths=source_relative plugin.proto
