package command

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/storage/sqlstore"
)

func TestAPIKeyLifecycle(t *testing.T) {
	dbURL := "sqlite://" + filepath.Join(t.TempDir(), "keys.db")
	t.Setenv("RATCHET_DATABASE_URL", dbURL)

	r := run(t, "", "apikey", "create", "--name", "ci", "--role", "viewer")
	if r.code != 0 {
		t.Fatalf("create: %s", r)
	}
	secret := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(secret, "rk_") || strings.Contains(r.stderr, secret) {
		t.Fatalf("create printed %q (stderr %q)", secret, r.stderr)
	}

	r = run(t, "", "apikey", "list", "-o", "json")
	if r.code != 0 {
		t.Fatalf("list: %s", r)
	}
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, apikey.Hash(secret)) {
		t.Fatal("list shows the key or its hash")
	}
	var keys []struct {
		ID        int64
		Name      string
		Role      string
		Prefix    string
		RevokedAt *string `json:"revoked_at"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &keys); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Name != "ci" || keys[0].Role != "viewer" || !strings.HasPrefix(secret, keys[0].Prefix) || keys[0].RevokedAt != nil {
		t.Fatalf("keys = %+v", keys)
	}

	if !strings.Contains(r.stdout, `"last_used_at": null`) {
		t.Fatalf("list -o json does not show last_used_at of a key never used:\n%s", r.stdout)
	}

	// A use recorded by the server shows in the table and in JSON.
	used := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	store, err := sqlstore.Open(t.Context(), dbURL, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.APIKeys().Touch(t.Context(), keys[0].ID, used); err != nil {
		t.Fatal(err)
	}
	_ = store.Close()
	r = run(t, "", "apikey", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "LAST USED") || !strings.Contains(r.stdout, used.Format(time.RFC3339)) {
		t.Fatalf("list does not show the last use: %s", r)
	}
	r = run(t, "", "apikey", "list", "-o", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"last_used_at": "2026-01-02T03:04:05Z"`) {
		t.Fatalf("list -o json does not show the last use: %s", r)
	}

	if r := run(t, "", "apikey", "revoke", "1"); r.code != 0 {
		t.Fatalf("revoke: %s", r)
	}
	r = run(t, "", "apikey", "list")
	if r.code != 0 || !strings.Contains(r.stdout, "revoked") {
		t.Fatalf("list after revoke: %s", r)
	}
	for _, args := range [][]string{
		{"apikey", "create", "--name", "x", "--role", "root"},
		{"apikey", "create"},
		{"apikey", "revoke", "abc"},
	} {
		if r := run(t, "", args...); r.code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, r.code, r)
		}
	}
	if r := run(t, "", "apikey", "revoke", "99"); r.code != 1 {
		t.Errorf("revoke of an unknown key: %s", r)
	}
}
