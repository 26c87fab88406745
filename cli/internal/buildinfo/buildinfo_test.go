package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	vcs := &debug.BuildInfo{
		Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc123"},
			{Key: "vcs.modified", Value: "true"},
			{Key: "vcs.time", Value: "2025-01-02T03:04:05Z"},
		},
	}
	for _, tc := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            Info
	}{
		{"nothing", "dev", "", nil, Info{Version: "dev", Commit: "unknown"}},
		{"vcs", "dev", "", vcs, Info{Version: "dev", Commit: "abc123", Modified: true, BuildTime: "2025-01-02T03:04:05Z"}},
		{"ldflags win", "v1.2.3", "fff", vcs, Info{Version: "v1.2.3", Commit: "fff", BuildTime: "2025-01-02T03:04:05Z"}},
		{"go install", "dev", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.0"}}, Info{Version: "v0.4.0", Commit: "unknown"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.want.GoVersion = runtime.Version()
			tc.want.Platform = runtime.GOOS + "/" + runtime.GOARCH
			if got := fromBuildInfo(tc.version, tc.commit, tc.bi); got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestGet(t *testing.T) {
	t.Parallel()
	info := Get()
	if info.Version == "" || info.Commit == "" || info.GoVersion != runtime.Version() {
		t.Errorf("Get() = %+v", info)
	}
}
