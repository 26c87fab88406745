// Package client is a Go client of Ratchet's REST API: one method per
// route, taking a context first, with the wire types of package apitypes.
//
//	c, err := client.New("http://127.0.0.1:8080", client.WithToken(key))
//	exec, err := c.ExecuteTask(ctx, "hello", apitypes.ExecuteRequest{Input: json.RawMessage(`{"name":"Ada"}`)})
//	jobs, total, err := c.ListJobs(ctx, client.ListOptions{End: 50, Sort: "created_at", Order: "desc",
//		Filters: map[string][]string{"status": {"failed"}}})
//
// Error answers are *APIError values decoded from the server's error
// envelope; they unwrap to the core error of the same kind, so
// errors.Is(err, core.ErrNotFound) works. The package depends only on the
// standard library, core and the api module's light packages.
package client
