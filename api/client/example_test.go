package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/api/listquery"
	"github.com/ratchet-go/ratchet/core"
)

// exampleServer stands in for `ratchet serve` so the examples run offline.
func exampleServer() *httptest.Server {
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	mux := http.NewServeMux()
	writeJSON := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	mux.HandleFunc("POST /api/v1/tasks/{id}/execute", func(w http.ResponseWriter, r *http.Request) {
		var req apitypes.ExecuteRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeJSON(w, 400, apitypes.NewErrorEnvelope(core.NewError(core.KindInvalidArgument, "bad body"), ""))
			return
		}
		var in struct{ Name string }
		_ = json.Unmarshal(req.Input, &in)
		out, _ := json.Marshal(map[string]string{"greeting": "Hello, " + in.Name + "!"})
		if req.Async {
			writeJSON(w, 202, apitypes.FromJob(core.Job{ID: 12, TaskID: 1, TaskName: r.PathValue("id"),
				Status: core.JobQueued, Priority: core.PriorityHigh, Input: req.Input, CreatedAt: now, ProcessAt: now}))
			return
		}
		writeJSON(w, 200, apitypes.FromExecution(core.Execution{ID: 7, TaskID: 1, TaskName: r.PathValue("id"),
			Status: core.ExecutionCompleted, Input: req.Input, Output: out, Attempt: 1, QueuedAt: now}))
	})
	mux.HandleFunc("GET /api/v1/jobs", func(w http.ResponseWriter, r *http.Request) {
		q, err := listquery.Parse(r.URL.Query(), listquery.Jobs)
		if err != nil {
			writeJSON(w, core.HTTPStatusOf(err), apitypes.NewErrorEnvelope(err, r.Header.Get("X-Request-ID")))
			return
		}
		jobs := []core.Job{
			{ID: 3, TaskName: "hello", Status: core.JobFailed, Priority: core.PriorityNormal, ErrorType: "NetworkError"},
			{ID: 2, TaskName: "hello", Status: core.JobFailed, Priority: core.PriorityLow, ErrorType: "TimeoutError"},
		}
		listquery.SetHeaders(w.Header(), "jobs", q.Offset, len(jobs), 17)
		writeJSON(w, 200, apitypes.FromJobs(jobs))
	})
	mux.HandleFunc("GET /api/v1/jobs/{id}", func(w http.ResponseWriter, r *http.Request) {
		err := core.Errorf(core.KindNotFound, "job %s not found", r.PathValue("id"))
		writeJSON(w, core.HTTPStatusOf(err), apitypes.NewErrorEnvelope(err, "req-1"))
	})
	return httptest.NewServer(mux)
}

// Execute a task synchronously and read its output.
func Example() {
	srv := exampleServer()
	defer srv.Close()

	c, err := client.New(srv.URL, client.WithToken("my-api-key"))
	if err != nil {
		panic(err)
	}
	exec, err := c.ExecuteTask(context.Background(), "hello", apitypes.ExecuteRequest{
		Input: json.RawMessage(`{"name":"Ada"}`),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(exec.Status, string(exec.Output))
	// Output: completed {"greeting":"Hello, Ada!"}
}

// Queue a job instead of waiting for the execution.
func ExampleClient_ExecuteTaskAsync() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL)

	job, err := c.ExecuteTaskAsync(context.Background(), "hello", apitypes.ExecuteRequest{
		Input:    json.RawMessage(`{"name":"Grace"}`),
		Priority: "high",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(job.ID, job.Status, job.Priority)
	// Output: 12 queued high
}

// List the failed jobs, newest first; the total comes from X-Total-Count.
func ExampleClient_ListJobs() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL)

	jobs, total, err := c.ListJobs(context.Background(), client.ListOptions{
		End:     2,
		Sort:    "created_at",
		Order:   "desc",
		Filters: map[string][]string{"status": {"failed"}},
	})
	if err != nil {
		panic(err)
	}
	for _, j := range jobs {
		fmt.Println(j.ID, j.TaskName, j.ErrorType)
	}
	fmt.Println("total:", total)
	// Output:
	// 3 hello NetworkError
	// 2 hello TimeoutError
	// total: 17
}

// Errors carry the server's envelope and match core's sentinel errors.
func ExampleAPIError() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL)

	_, err := c.GetJob(context.Background(), 404)
	fmt.Println(errors.Is(err, core.ErrNotFound))
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Code, apiErr.Message, apiErr.TraceID)
	}

	// A list filter the server does not know is a 400 naming it.
	_, _, err = c.ListJobs(context.Background(), client.ListOptions{Filters: map[string][]string{"colour": {"red"}}})
	fmt.Println(errors.Is(err, core.ErrInvalidArgument))
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.Status, apiErr.Details["parameter"])
	}
	// Output:
	// true
	// 404 NOT_FOUND job 404 not found req-1
	// true
	// 400 colour
}
