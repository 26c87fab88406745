package middleware_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/lib/server/apikey"
	"github.com/ratchet-go/ratchet/lib/server/middleware"
)

// touchingStore is a KeyStore of one key that records its last uses.
type touchingStore struct {
	hash string
	err  error

	mu      sync.Mutex
	touches []time.Time
}

func (s *touchingStore) LookupKey(_ context.Context, hash string) (middleware.Key, error) {
	if hash != s.hash {
		return middleware.Key{}, errors.New("unexpected hash")
	}
	return middleware.Key{ID: 7, Name: "ci", Role: "operator"}, nil
}

func (s *touchingStore) TouchKey(_ context.Context, id int64, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != 7 {
		return errors.New("wrong key")
	}
	s.touches = append(s.touches, at)
	return s.err
}

func (s *touchingStore) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.touches)
}

func TestAuthRecordsLastUse(t *testing.T) {
	t.Parallel()
	secret, hash, _ := apikey.GenerateAPIKey()
	for _, failing := range []bool{false, true} {
		store := &touchingStore{hash: hash}
		if failing {
			store.err = errors.New("database is locked")
		}
		now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		auth, err := middleware.NewAuth(middleware.AuthConfig{Enabled: true, Store: store, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		e := echo.New()
		e.Use(auth.Authenticate(), auth.Authorize())
		e.GET("/api/v1/tasks", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
		get := func() {
			t.Helper()
			req := httptest.NewRequest(http.MethodGet, "/api/v1/tasks", nil)
			req.Header.Set("Authorization", "Bearer "+secret)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusNoContent {
				t.Fatalf("failing=%v: status %d %s: recording the last use must not fail the request", failing, rec.Code, rec.Body)
			}
			auth.Wait()
		}
		get()
		get() // within the minute: not recorded again
		if n := store.count(); n != 1 {
			t.Fatalf("failing=%v: %d touches after two requests in a minute, want 1", failing, n)
		}
		now = now.Add(middleware.DefaultTouchInterval)
		get()
		if n := store.count(); n != 2 || !store.touches[1].Equal(now) {
			t.Fatalf("failing=%v: touches %v, want a second one at %v", failing, store.touches, now)
		}
	}
}
