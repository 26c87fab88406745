package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/config"
	"github.com/ratchet-go/ratchet/core"
	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

// TestHTTPServerWiring builds the HTTP server over an app that is not
// started (no worker processes): the REST API, API keys from the
// database, health over the app's components, and metrics.
func TestHTTPServerWiring(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "r.db")
	cfg.Server.Port = 0
	cfg.Server.Auth.Enabled = true
	cfg.Server.RateLimit.Enabled = false
	a, err := New(cfg, Options{Node: "test", Build: BuildInfo{Version: "v9.9.9"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.store.Close() })
	ctx := t.Context()
	if _, err := a.store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	secret, hash, prefix := apikey.GenerateAPIKey()
	if _, err := a.store.APIKeys().Create(ctx, sqlstore.APIKey{Name: "viewer", Hash: hash, Prefix: prefix, Role: "viewer"}); err != nil {
		t.Fatal(err)
	}

	h, err := a.NewHTTPServer()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.Stop(stopCtx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})

	get := func(path, key string) (int, string) {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.URL()+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}

	tests := []struct {
		name, path, key string
		status          int
		contains        string
	}{
		{"list without a key", "/api/v1/tasks", "", 401, "UnauthorizedError"},
		{"list with a wrong key", "/api/v1/tasks", "rk_nope", 401, "UnauthorizedError"},
		{"list with a stored key", "/api/v1/tasks", secret, 200, "[]"},
		{"version is public", "/version", "", 200, "v9.9.9"},
		{"no workers running: unhealthy", "/health/detailed", "", 503, `"workers":{"status":"unhealthy"`},
		{"metrics", "/metrics", "", 200, "ratchet_build_info"},
		{"ready once started", "/ready", "", 200, ""},
		{"graphql is mounted", "/graphql?query=%7Btasks%7Btotal%7D%7D", secret, 200, `{"data":{"tasks":{"total":0}}}`},
		{"playground is served", "/playground", "", 200, "/playground/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(tt.path, tt.key)
			if status != tt.status || !strings.Contains(body, tt.contains) {
				t.Fatalf("GET %s = %d %s; want %d containing %q", tt.path, status, body, tt.status, tt.contains)
			}
		})
	}

	// The stored key's use was recorded (in the background).
	deadline := time.Now().Add(5 * time.Second)
	for {
		keys, err := a.store.APIKeys().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 1 && keys[0].LastUsedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the last use of the stored key was not recorded: %+v", keys)
		}
		time.Sleep(10 * time.Millisecond)
	}

	// Delivery attempts are counted as they are stored.
	a.metrics.DeliveryAttempted(core.DestinationWebhook, true)
	if _, body := get("/metrics", ""); !strings.Contains(body, `ratchet_deliveries_total{destination_type="webhook",outcome="success"} 1`) {
		t.Fatalf("delivery metric missing:\n%s", body)
	}
}

func TestWorkersHealth(t *testing.T) {
	w := func(s core.WorkerStatus) core.Worker { return core.Worker{Status: s} }
	tests := []struct {
		name    string
		workers []core.Worker
		want    string
	}{
		{"none", nil, "unhealthy"},
		{"all serving", []core.Worker{w(core.WorkerIdle), w(core.WorkerBusy)}, "ok"},
		{"some down", []core.Worker{w(core.WorkerIdle), w(core.WorkerCrashed)}, "degraded"},
		{"all down", []core.Worker{w(core.WorkerStarting), w(core.WorkerUnhealthy)}, "unhealthy"},
	}
	for _, tt := range tests {
		if got := workersHealth(tt.workers).Status; got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestHTTPServerGraphQLIntrospection checks that server.graphql.introspection
// switches GraphQL introspection on and off.
func TestHTTPServerGraphQLIntrospection(t *testing.T) {
	for _, on := range []bool{true, false} {
		t.Run(fmt.Sprintf("introspection=%v", on), func(t *testing.T) {
			cfg := config.Default()
			cfg.Server.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "r.db")
			cfg.Server.Port = 0
			cfg.Server.RateLimit.Enabled = false
			cfg.Server.GraphQL.Introspection = on
			a, err := New(cfg, Options{Node: "test"})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = a.store.Close() })
			if _, err := a.store.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			h, err := a.NewHTTPServer()
			if err != nil {
				t.Fatal(err)
			}
			if err := h.Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = h.Stop(stopCtx)
			})
			resp, err := http.Get(h.URL() + "/graphql?query=%7B__schema%7BqueryType%7Bname%7D%7D%7D")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			answered := strings.Contains(string(body), `"queryType":{"name":"Query"}`)
			if answered != on {
				t.Fatalf("introspection %v: got %s", on, body)
			}
		})
	}
}
