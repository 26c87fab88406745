// Package apikey holds what API-key authentication shares between the HTTP
// server, the service layer and the CLI: key generation and hashing, the
// roles and what each may do, and the authenticated principal carried in a
// request's context. It depends on the standard library only.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// KeyPrefix starts every generated key, so that a leaked key is easy to
// recognise (by people and secret scanners).
const KeyPrefix = "rk_"

// DisplayPrefixLen is the number of characters of a key shown to tell keys
// apart (the prefix stored beside the hash): "rk_" and 8 more.
const DisplayPrefixLen = len(KeyPrefix) + 8

// GenerateAPIKey makes a new random key. plaintext is shown to the user
// once and never stored; hash (Hash(plaintext)) is what the database keeps;
// prefix (the first DisplayPrefixLen characters) is stored beside it to
// tell keys apart in listings.
func GenerateAPIKey() (plaintext, hash, prefix string) {
	var b [32]byte
	// crypto/rand.Read never returns an error (it crashes the program
	// when the system's source fails).
	_, _ = rand.Read(b[:])
	plaintext = KeyPrefix + hex.EncodeToString(b[:])
	return plaintext, Hash(plaintext), plaintext[:DisplayPrefixLen]
}

// Hash is the stored form of a key: hex SHA-256 of the secret, the same
// as storage's sqlstore.HashAPIKey.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Role is what a key may do.
type Role string

// The roles, from the least to the most powerful.
const (
	// RoleViewer may read: GET and HEAD requests only.
	RoleViewer Role = "viewer"
	// RoleOperator may do everything except API-key management and the
	// admin routes (debug endpoints).
	RoleOperator Role = "operator"
	// RoleAdmin may do everything.
	RoleAdmin Role = "admin"
)

// ParseRole reads a role; "" is the default, operator (as for static keys
// in the configuration). ok is false for an unknown role.
func ParseRole(s string) (r Role, ok bool) {
	switch Role(strings.ToLower(strings.TrimSpace(s))) {
	case "", RoleOperator:
		return RoleOperator, true
	case RoleViewer:
		return RoleViewer, true
	case RoleAdmin:
		return RoleAdmin, true
	}
	return "", false
}

func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleOperator:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a holder of r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// ReadOnlyMethod reports whether an HTTP method only reads (GET, HEAD,
// OPTIONS): what a viewer may send.
func ReadOnlyMethod(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

// Key sources of a Principal.
const (
	SourceConfig    = "config"
	SourceDatabase  = "database"
	SourceAnonymous = "anonymous"
)

// Principal is who made a request.
type Principal struct {
	// Name is the key's name ("anonymous" without authentication).
	Name string
	Role Role
	// KeyID is the database id of a stored key; 0 for a static key.
	KeyID int64
	// Source is SourceConfig, SourceDatabase or SourceAnonymous (when
	// authentication is off, every request is an anonymous admin).
	Source string
}

// Anonymous is the principal of every request when authentication is off.
var Anonymous = Principal{Name: "anonymous", Role: RoleAdmin, Source: SourceAnonymous}

// RateKey is the key of the principal's rate-limit bucket: one per key.
// It is empty for the anonymous principal (whose requests are limited per
// client IP).
func (p Principal) RateKey() string {
	switch p.Source {
	case SourceConfig:
		return "key:config:" + p.Name
	case SourceDatabase:
		return "key:db:" + strconv.FormatInt(p.KeyID, 10)
	}
	return ""
}

type principalKey struct{}

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom is the principal of the request ctx belongs to; ok is
// false outside an authenticated request (public routes carry none).
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}
