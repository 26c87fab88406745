// Package buildinfo reports which build of ratchet is running.
//
// Version and Commit are set at link time:
//
//	go build -ldflags "-X github.com/ratchet-go/ratchet/cli/internal/buildinfo.Version=v1.2.0 \
//	  -X github.com/ratchet-go/ratchet/cli/internal/buildinfo.Commit=$(git rev-parse HEAD)" ./cli/cmd/ratchet
//
// When they are not, Get falls back to what the Go toolchain recorded in
// the binary (the module version under go install, the VCS revision under
// go build in a checkout).
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; see the package documentation.
var (
	Version = "dev"
	Commit  = ""
)

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	Modified  bool   `json:"modified,omitempty"`
	BuildTime string `json:"build_time,omitempty"`
	GoVersion string `json:"go_version"`
	Platform  string `json:"platform"`
}

// Get returns the build information of the running binary.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return fromBuildInfo(Version, Commit, bi)
}

func fromBuildInfo(version, commit string, bi *debug.BuildInfo) Info {
	info := Info{
		Version:   version,
		Commit:    commit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
	if bi != nil {
		if info.Version == "dev" || info.Version == "" {
			if v := bi.Main.Version; v != "" && v != "(devel)" {
				info.Version = v
			}
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if info.Commit == "" {
					info.Commit = s.Value
				}
			case "vcs.modified":
				info.Modified = commit == "" && s.Value == "true"
			case "vcs.time":
				info.BuildTime = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}
