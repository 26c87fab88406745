package rest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
)

// FuzzDecodeStrict: any body decodes into the request types or fails with
// a 400 InvalidArgumentError; it never panics.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, `[]`, `{"task_id":"addition"}`, `{"task_id":12,"priority":"high","max_retries":3}`,
		`{"task_id":true}`, `{"bogus":1}`, `{"task_id":"a","process_at":"2026-01-01T00:00:00Z"}`,
		`{"input":{"a":[1,2,{"b":null}]},"async":true,"timeout_seconds":5}`, `{"tests":[{"file":"x"}]}`,
		`{"max_executions":null,"output_destinations":[{"type":"webhook","config":{"url":"x"}}]}`, `{"a":1}{"b":2}`, `{"task_id":`,
	} {
		f.Add(s)
	}
	e := echo.New()
	f.Fuzz(func(t *testing.T, body string) {
		for _, v := range []any{
			&apitypes.CreateJobRequest{}, &apitypes.ExecuteRequest{}, &apitypes.CreateScheduleRequest{},
			&apitypes.UpdateScheduleRequest{}, &apitypes.UpdateTaskRequest{}, &apitypes.CreateTaskRequest{}, &apitypes.TestTaskRequest{},
		} {
			req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
			c := e.NewContext(req, httptest.NewRecorder())
			err := decodeStrict(c, []byte(body), v, true)
			if err == nil {
				continue
			}
			var ce *core.Error
			if !errors.As(err, &ce) || core.HTTPStatusOf(err) != http.StatusBadRequest {
				t.Fatalf("%T from %q: %v (%T), want a 400 core error", v, body, err, err)
			}
		}
	})
}
