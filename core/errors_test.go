package core

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestKindHTTPStatus(t *testing.T) {
	tests := []struct {
		kind ErrorKind
		want int
	}{
		{KindValidation, 400},
		{KindInputValidation, 400},
		{KindInvalidArgument, 400},
		{KindAuthentication, 401},
		{KindUnauthorized, 401},
		{KindAuthorization, 403},
		{KindNotFound, 404},
		{KindConflict, 409},
		{KindData, 422},
		{KindOutputValidation, 422},
		{KindRateLimit, 429},
		{KindNetwork, 502},
		{KindServiceUnavailable, 503},
		{KindTimeout, 504},
		{KindRuntime, 500},
		{KindConfiguration, 500},
		{KindCompile, 500},
		{KindMemoryLimit, 500},
		{KindWorkerCrash, 500},
		{KindCancelled, 500},
		{KindInternal, 500},
		{KindHTTP, 500},
		{"TypeError", 500},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			if got := tt.kind.HTTPStatus(); got != tt.want {
				t.Fatalf("HTTPStatus = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestEveryKindIsMapped(t *testing.T) {
	for _, k := range JSErrorClasses {
		if !k.Known() {
			t.Errorf("%s has no status", k)
		}
	}
}

func TestHTTPErrorUsesItsStatus(t *testing.T) {
	e := &Error{Kind: KindHTTP, Message: "teapot", Status: 418}
	if got := HTTPStatusOf(fmt.Errorf("calling: %w", e)); got != 418 {
		t.Fatalf("status = %d, want 418", got)
	}
	e.Status = 200 // not an error status: fall back to the kind's
	if got := e.HTTPStatus(); got != http.StatusInternalServerError {
		t.Fatalf("status = %d, want 500", got)
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want ErrorKind
	}{
		{"nil", nil, ""},
		{"typed", NewError(KindData, "bad"), KindData},
		{"wrapped", fmt.Errorf("ctx: %w", NewError(KindNetwork, "down")), KindNetwork},
		{"deadline", context.DeadlineExceeded, KindTimeout},
		{"wrapped deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), KindTimeout},
		{"canceled", context.Canceled, KindCancelled},
		{"plain", errors.New("boom"), KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KindOf(tt.err); got != tt.want {
				t.Fatalf("KindOf = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	notRetryable := []ErrorKind{KindInputValidation, KindValidation, KindAuthentication,
		KindAuthorization, KindNotFound, KindCompile, KindConfiguration}
	for _, k := range notRetryable {
		if k.Retryable() || IsRetryable(NewError(k, "x")) {
			t.Errorf("%s is retryable", k)
		}
	}
	for _, k := range []ErrorKind{KindNetwork, KindTimeout, KindServiceUnavailable, KindRateLimit,
		KindRuntime, KindWorkerCrash, KindMemoryLimit, KindOutputValidation, KindData, "TypeError"} {
		if !k.Retryable() {
			t.Errorf("%s is not retryable", k)
		}
	}
	if IsRetryable(nil) {
		t.Error("nil is retryable")
	}
	var r interface{ Retryable() bool } = NewError(KindNetwork, "x")
	if !r.Retryable() {
		t.Error("Error.Retryable disagrees with its kind")
	}
}

func TestSentinelsAndWrapping(t *testing.T) {
	cause := errors.New("disk full")
	err := Errorf(KindInternal, "saving job 7: %w", cause)
	if !errors.Is(err, cause) {
		t.Fatal("Errorf lost the %w cause")
	}
	if err.Error() != "InternalError: saving job 7: disk full" {
		t.Fatalf("Error() = %q", err.Error())
	}
	nf := fmt.Errorf("lookup: %w", Errorf(KindNotFound, "task %q not found", "x"))
	if !errors.Is(nf, ErrNotFound) || errors.Is(nf, ErrConflict) {
		t.Fatal("sentinel matching by kind failed")
	}
	w := WrapError(KindNetwork, cause, "fetching")
	if w.Message != "fetching: disk full" || !errors.Is(w, cause) {
		t.Fatalf("WrapError = %+v", w)
	}
	d := NewError(KindData, "x").WithDetail("field", "a")
	if d.Details["field"] != "a" {
		t.Fatal("WithDetail lost the detail")
	}
}

func TestErrorfWrappingATypedError(t *testing.T) {
	inner := Errorf(KindConflict, "job cannot go from completed to cancelled")
	err := Errorf(KindConflict, "job %d: %w", 2, inner)
	if err.Message != "job 2: job cannot go from completed to cancelled" {
		t.Fatalf("Message = %q", err.Message)
	}
	if err.Err != inner || !errors.Is(err, ErrConflict) {
		t.Fatalf("the cause is lost: %#v", err.Err)
	}
	// %v of a typed error is formatted the same way.
	if got := Errorf(KindInternal, "saving: %v", NewError(KindData, "bad row")).Message; got != "saving: bad row" {
		t.Fatalf("Message = %q", got)
	}
}

func TestParseErrorKind(t *testing.T) {
	if k, ok := ParseErrorKind("timeouterror"); !ok || k != KindTimeout {
		t.Fatalf("ParseErrorKind = %q, %v", k, ok)
	}
	if k, ok := ParseErrorKind("TypeError"); ok || k != "TypeError" {
		t.Fatalf("ParseErrorKind(TypeError) = %q, %v", k, ok)
	}
}
