package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"time"

	"github.com/ratchet-go/ratchet/core"
)

// API key roles.
const (
	RoleAdmin    = "admin"
	RoleOperator = "operator"
	RoleViewer   = "viewer"
)

// APIKey is a stored API key. Only the SHA-256 of the secret is kept
// (HashAPIKey); Prefix is the first characters of the secret, shown to
// tell keys apart.
type APIKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Hash       string     `json:"-"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// Active reports whether the key may be used.
func (k APIKey) Active() bool { return k.RevokedAt == nil }

// HashAPIKey is the stored form of an API key secret: hex SHA-256.
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// APIKeyRepo stores API keys.
type APIKeyRepo struct{ s *Store }

// APIKeys returns the API key repository.
func (s *Store) APIKeys() APIKeyRepo { return APIKeyRepo{s} }

func apiKeyFromModel(m *apiKeyModel) APIKey {
	return APIKey{ID: m.ID, Name: m.Name, Hash: m.KeyHash, Prefix: m.Prefix, Role: m.Role,
		CreatedAt: m.CreatedAt.UTC(), LastUsedAt: utcPtr(m.LastUsedAt), RevokedAt: utcPtr(m.RevokedAt)}
}

// Create stores a key. Hash must be HashAPIKey of the secret; Role one of
// admin, operator, viewer.
func (r APIKeyRepo) Create(ctx context.Context, k APIKey) (APIKey, error) {
	switch k.Role {
	case RoleAdmin, RoleOperator, RoleViewer:
	default:
		return APIKey{}, core.Errorf(core.KindInvalidArgument, "invalid role %q: must be admin, operator or viewer", k.Role).WithDetail("field", "role")
	}
	if len(k.Hash) != sha256.Size*2 {
		return APIKey{}, core.Errorf(core.KindInvalidArgument, "API key hash must be a hex SHA-256 (HashAPIKey)")
	}
	if err := checkText("API key fields", k.Name, k.Prefix); err != nil {
		return APIKey{}, err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = r.s.now()
	}
	m := &apiKeyModel{Name: k.Name, KeyHash: k.Hash, Prefix: k.Prefix, Role: k.Role,
		CreatedAt: truncTime(k.CreatedAt), RevokedAt: truncTimePtr(k.RevokedAt)}
	if _, err := r.s.w.NewInsert().Model(m).Returning("*").Exec(ctx); err != nil {
		err = mapError(err)
		if errors.Is(err, core.ErrConflict) {
			return APIKey{}, core.Errorf(core.KindConflict, "an API key with this secret exists already")
		}
		return APIKey{}, err
	}
	return apiKeyFromModel(m), nil
}

// GetByHash finds a key by the hash of its secret (revoked keys included:
// check Active).
func (r APIKeyRepo) GetByHash(ctx context.Context, hash string) (APIKey, error) {
	var m apiKeyModel
	if err := r.s.r.NewSelect().Model(&m).Where("key_hash = ?", hash).Scan(ctx); err != nil {
		return APIKey{}, notFound(err, "API key", "with this secret")
	}
	return apiKeyFromModel(&m), nil
}

// Get returns a key by id.
func (r APIKeyRepo) Get(ctx context.Context, id int64) (APIKey, error) {
	var m apiKeyModel
	if err := r.s.r.NewSelect().Model(&m).Where("id = ?", id).Scan(ctx); err != nil {
		return APIKey{}, notFound(err, "API key", id)
	}
	return apiKeyFromModel(&m), nil
}

// List returns every key, oldest first.
func (r APIKeyRepo) List(ctx context.Context) ([]APIKey, error) {
	var ms []apiKeyModel
	if err := r.s.r.NewSelect().Model(&ms).Order("id").Scan(ctx); err != nil {
		return nil, mapError(err)
	}
	out := make([]APIKey, len(ms))
	for i := range ms {
		out[i] = apiKeyFromModel(&ms[i])
	}
	return out, nil
}

// Touch records that a key was used at at.
func (r APIKeyRepo) Touch(ctx context.Context, id int64, at time.Time) error {
	res, err := r.s.w.NewUpdate().Model((*apiKeyModel)(nil)).Set("last_used_at = ?", truncTime(at)).Where("id = ?", id).Exec(ctx)
	return affected(res, err, "API key", id)
}

// Revoke marks a key revoked at at; revoking twice keeps the first time.
func (r APIKeyRepo) Revoke(ctx context.Context, id int64, at time.Time) error {
	res, err := r.s.w.NewUpdate().Model((*apiKeyModel)(nil)).
		Set("revoked_at = COALESCE(revoked_at, "+r.s.timeParam()+")", truncTime(at)).Where("id = ?", id).Exec(ctx)
	return affected(res, err, "API key", id)
}

// Delete removes a key.
func (r APIKeyRepo) Delete(ctx context.Context, id int64) error {
	res, err := r.s.w.NewDelete().Model((*apiKeyModel)(nil)).Where("id = ?", id).Exec(ctx)
	return affected(res, err, "API key", id)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
