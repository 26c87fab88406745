package middleware_test

import (
	"strings"
	"testing"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

func TestRequiredRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method, route string
		want          apikey.Role
	}{
		{"GET", "/api/v1/tasks", apikey.RoleViewer},
		{"HEAD", "/api/v1/tasks/:id", apikey.RoleViewer},
		{"POST", "/api/v1/tasks/:id/execute", apikey.RoleOperator},
		{"PATCH", "/api/v1/schedules/:id", apikey.RoleOperator},
		{"DELETE", "/api/v1/jobs/:id", apikey.RoleOperator},
		{"GET", "/api/v1/apikeys", apikey.RoleAdmin},
		{"POST", "/api/v1/apikeys", apikey.RoleAdmin},
		{"DELETE", "/api/v1/apikeys/:id", apikey.RoleAdmin},
		{"GET", "/debug/config", apikey.RoleAdmin},
		{"GET", "/debug/pprof/*", apikey.RoleAdmin},
		{"POST", "/graphql", apikey.RoleViewer},
		{"GET", "/graphql", apikey.RoleViewer},
	}
	for _, tt := range tests {
		if got := middleware.RequiredRole(tt.method, tt.route); got != tt.want {
			t.Errorf("%s %s: %s, want %s", tt.method, tt.route, got, tt.want)
		}
	}
}

func TestSaneRequestID(t *testing.T) {
	t.Parallel()
	for id, want := range map[string]bool{
		"": false, "abc": true, "0190f5c2-7b7e-7cc0-8c4e-1234567890ab": true, "a.b_c:d-e": true,
		strings.Repeat("x", 128): true, strings.Repeat("x", 129): false,
		"a b": false, "a\nb": false, "a\x01b": false, "<x>": false, "é": false,
	} {
		if got := middleware.SaneRequestID(id); got != want {
			t.Errorf("SaneRequestID(%q) = %v", id, got)
		}
	}
}

func TestNewAuthRefusesBadStaticKeys(t *testing.T) {
	t.Parallel()
	for _, k := range []struct{ key, role string }{{"", "admin"}, {"k", "root"}} {
		_, err := middleware.NewAuth(middleware.AuthConfig{Enabled: true,
			StaticKeys: []config.APIKey{{Name: "x", Key: k.key, Role: k.role}}})
		if err == nil {
			t.Errorf("key %q role %q accepted", k.key, k.role)
		}
	}
}
