package rest_test

import (
	"log/slog"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/lib/server/rest"
	"github.com/ratchet-go/ratchet/lib/service"
)

// TestRouteDrift: lib/server with the REST routes serves exactly the
// documented routes. Registering needs no running service.
func TestRouteDrift(t *testing.T) {
	t.Parallel()
	cfg := server.ConfigFrom(config.Default())
	cfg.Port = 0
	srv, err := server.New(cfg, server.Deps{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := rest.Register(srv.API(), new(service.Service), rest.Options{}); err != nil {
		t.Fatal(err)
	}
	undocumented, missing := srv.CheckRoutes()
	for _, r := range undocumented {
		t.Errorf("served but not documented: %s", r)
	}
	for _, r := range missing {
		t.Errorf("documented but not served: %s", r)
	}
	// Every route is named by its operation id.
	names := map[string]string{}
	for _, r := range srv.Echo().Routes() {
		names[r.Method+" "+r.Path] = r.Name
	}
	for _, r := range api.Routes() {
		if got := names[r.Method+" "+r.ColonPath()]; got != r.OperationID && !isServerRoute(r) {
			t.Errorf("%s %s is named %q, want %q", r.Method, r.Path, got, r.OperationID)
		}
	}
}

func isServerRoute(r api.Route) bool {
	for _, id := range rest.ServedByServer {
		if id == r.OperationID {
			return true
		}
	}
	return len(r.Path) < len(api.V1Prefix)+1 || r.Path[:len(api.V1Prefix)+1] != api.V1Prefix+"/"
}

func TestRegisterRefusesNil(t *testing.T) {
	t.Parallel()
	e := echo.New()
	if err := rest.Register(nil, new(service.Service), rest.Options{}); err == nil {
		t.Error("a nil group was accepted")
	}
	if err := rest.Register(e.Group(api.V1Prefix), nil, rest.Options{}); err == nil {
		t.Error("a nil service was accepted")
	}
}
