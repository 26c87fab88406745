package apikey

import (
	"context"
	"strings"
	"testing"
)

func TestGenerateAPIKey(t *testing.T) {
	t.Parallel()
	p1, h1, pre1 := GenerateAPIKey()
	p2, h2, _ := GenerateAPIKey()
	if p1 == p2 || h1 == h2 {
		t.Fatal("two generated keys are equal")
	}
	if !strings.HasPrefix(p1, KeyPrefix) || len(p1) != len(KeyPrefix)+64 {
		t.Errorf("key %q: want %s and 64 hex digits", p1, KeyPrefix)
	}
	if h1 != Hash(p1) || len(h1) != 64 {
		t.Errorf("hash %q is not Hash(plaintext)", h1)
	}
	if pre1 != p1[:DisplayPrefixLen] {
		t.Errorf("prefix %q", pre1)
	}
	// The same SHA-256 hex as storage's sqlstore.HashAPIKey.
	if got := Hash("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("Hash(abc) = %s", got)
	}
}

func TestRoles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		have, need Role
		want       bool
	}{
		{RoleViewer, RoleViewer, true},
		{RoleViewer, RoleOperator, false},
		{RoleOperator, RoleViewer, true},
		{RoleOperator, RoleAdmin, false},
		{RoleAdmin, RoleAdmin, true},
		{Role("root"), RoleViewer, false},
		{"", RoleViewer, false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.need, got, tt.want)
		}
	}
	for in, want := range map[string]Role{"": RoleOperator, "Admin": RoleAdmin, " viewer ": RoleViewer, "operator": RoleOperator} {
		if got, ok := ParseRole(in); !ok || got != want {
			t.Errorf("ParseRole(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseRole("root"); ok {
		t.Error("ParseRole(root) ok")
	}
}

func TestPrincipalContext(t *testing.T) {
	t.Parallel()
	if _, ok := PrincipalFrom(context.Background()); ok {
		t.Fatal("principal in an empty context")
	}
	p := Principal{Name: "ci", Role: RoleViewer, KeyID: 7, Source: SourceDatabase}
	got, ok := PrincipalFrom(WithPrincipal(context.Background(), p))
	if !ok || got != p {
		t.Fatalf("got %+v, %v", got, ok)
	}
	if p.RateKey() != "key:db:7" || Anonymous.RateKey() != "" ||
		(Principal{Name: "a", Source: SourceConfig}).RateKey() != "key:config:a" {
		t.Error("RateKey")
	}
}
