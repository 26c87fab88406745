package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api"
	"github.com/ratchet-go/ratchet/api/openapi"
	"github.com/ratchet-go/ratchet/lib/server"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
	"github.com/ratchet-go/ratchet/lib/server/rest"
	"github.com/ratchet-go/ratchet/lib/service"
)

// notYetImplemented lists documented route prefixes whose handlers do not
// exist yet. It is empty: TestRouteDrift fails for any documented route
// that is not served.
var notYetImplemented = []string{}

// mountAll mounts on s everything the real server serves beyond this
// package's own routes (the REST handlers), as the composition root does.
// The handlers are only registered, never called, so an empty service
// does.
func mountAll(t *testing.T, s *testServer) {
	t.Helper()
	if err := rest.Register(s.API(), new(service.Service), rest.Options{}); err != nil {
		t.Fatal(err)
	}
}

// fullServer is the server with every route: debug endpoints on (they are
// outside the document), authentication on.
func fullServer(t *testing.T) *testServer {
	s := newServer(t, fullConfig(), depsNone())
	mountAll(t, s)
	return s
}

func notImplemented(route string) bool {
	_, path, _ := strings.Cut(route, " ")
	return slices.ContainsFunc(notYetImplemented, func(p string) bool { return path == p || strings.HasPrefix(path, p+"/") })
}

// fullConfig turns the debug endpoints on (they are outside the document)
// and authentication on.
func fullConfig() server.Config {
	_, cfg := debugConfig()
	cfg.Auth.Enabled = true
	return cfg
}

// TestRouteDrift: every route served is documented in the OpenAPI
// document and every documented route is served (but those under
// notYetImplemented).
func TestRouteDrift(t *testing.T) {
	t.Parallel()
	undocumented, missing := fullServer(t).CheckRoutes()
	for _, r := range undocumented {
		t.Errorf("served but not in the OpenAPI document (api/routes.go): %s", r)
	}
	pending := map[string]int{}
	for _, r := range missing {
		if !notImplemented(r) {
			t.Errorf("documented but not served: %s", r)
			continue
		}
		_, path, _ := strings.Cut(r, " ")
		for _, p := range notYetImplemented {
			if path == p || strings.HasPrefix(path, p+"/") {
				pending[p]++
			}
		}
	}
	for _, p := range notYetImplemented {
		if pending[p] == 0 {
			t.Errorf("every route under %s is served now: delete it from notYetImplemented", p)
		}
	}
	t.Logf("documented routes not served yet: %d", len(missing))
}

// TestRouteDriftDetects shows that the check fails both ways.
func TestRouteDriftDetects(t *testing.T) {
	t.Parallel()
	s := fullServer(t)
	s.API().GET("/bogus", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	undocumented, _ := s.CheckRoutes()
	if !slices.Contains(undocumented, "GET /api/v1/bogus") {
		t.Errorf("an undocumented route was not reported: %v", undocumented)
	}
	// Without the REST handlers, their routes are reported missing.
	bare := newServer(t, fullConfig(), depsNone())
	if _, missing := bare.CheckRoutes(); !slices.Contains(missing, "GET /api/v1/tasks") {
		t.Errorf("an unserved documented route was not reported: %v", missing)
	}
}

// TestPublicRoutesMatchDocument: the routes the document marks public
// (no security requirement) are exactly the documented routes the
// middleware lets through without a key.
func TestPublicRoutesMatchDocument(t *testing.T) {
	t.Parallel()
	doc := api.Document()
	for _, r := range api.Routes() {
		item, ok := doc.Paths.Get(r.Path)
		if !ok {
			t.Fatalf("%s not in the document", r.Path)
		}
		op := operation(item, r.Method)
		if op == nil {
			t.Fatalf("%s %s not in the document", r.Method, r.Path)
		}
		// Public operations have an empty security requirement.
		documentedPublic := op.Security != nil && len(op.Security) == 0
		if got := middleware.IsPublic(r.ColonPath()); got != documentedPublic {
			t.Errorf("%s %s: public in the document %v, in the middleware %v", r.Method, r.Path, documentedPublic, got)
		}
	}
}

func operation(item *openapi.PathItem, method string) *openapi.Operation {
	switch method {
	case http.MethodGet:
		return item.Get
	case http.MethodPost:
		return item.Post
	case http.MethodPatch:
		return item.Patch
	case http.MethodDelete:
		return item.Delete
	case http.MethodPut:
		return item.Put
	}
	return nil
}
