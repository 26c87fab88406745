package command

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/ratchet-go/ratchet/api/client"
	"github.com/ratchet-go/ratchet/cli/internal/buildinfo"
)

// The remote commands (task, job, execution, schedule, worker) talk to a
// running server through the typed client of api/client. This file holds
// what they share: the connection flags, the error forms and the output
// helpers.

const (
	// envServer and envToken give --server and --token their defaults.
	envServer = "RATCHET_SERVER"
	envToken  = "RATCHET_TOKEN"

	defaultServer        = "http://127.0.0.1:8080"
	defaultRemoteTimeout = 30 * time.Second

	outputTable = "table"
	outputJSON  = "json"
)

// remoteFlags are the flags every remote command group has (persistent, so
// they go before or after the subcommand).
type remoteFlags struct {
	server, token, output string
	timeout               time.Duration
}

// addRemoteFlags adds the connection and output flags to a command group.
func addRemoteFlags(group *cobra.Command) *remoteFlags {
	rf := &remoteFlags{}
	f := group.PersistentFlags()
	f.StringVar(&rf.server, "server", "",
		"URL of the Ratchet server (default $"+envServer+", else "+defaultServer+")")
	f.StringVar(&rf.token, "token", "", "API key, sent as a Bearer token (default $"+envToken+")")
	f.StringVarP(&rf.output, "output", "o", outputTable, "output format: table or json (the API's JSON)")
	f.DurationVar(&rf.timeout, "timeout", defaultRemoteTimeout,
		"limit for each request to the server, such as 10s or 2m (0: no limit)")
	return rf
}

// remote is one remote command's connection to the server.
type remote struct {
	app    *App
	client *client.Client
	// server is the URL in use; serverFromEnv says it came from
	// RATCHET_SERVER, for error messages.
	server        string
	serverFromEnv bool
	json          bool
	timeout       time.Duration
	capture       *captureTransport
}

// connect checks the remote flags of cmd and returns a connection. Calls
// that may legitimately run long (a synchronous execution, a task's
// tests) pass long: they get no request limit unless --timeout is given.
func (rf *remoteFlags) connect(cmd *cobra.Command, app *App, long bool) (*remote, error) {
	output := strings.ToLower(strings.TrimSpace(rf.output))
	if output != outputTable && output != outputJSON {
		return nil, NewUsageError("invalid --output %q: allowed are table and json", rf.output)
	}
	flags := cmd.Flags()
	r := &remote{app: app, json: output == outputJSON, server: rf.server, timeout: rf.timeout}
	if !flags.Changed("server") {
		r.server = os.Getenv(envServer)
		r.serverFromEnv = r.server != ""
		if r.server == "" {
			r.server = defaultServer
		}
	}
	token := rf.token
	if !flags.Changed("token") {
		token = os.Getenv(envToken)
	}
	if r.timeout < 0 {
		return nil, NewUsageError("invalid --timeout %s: must not be negative", r.timeout)
	}
	if long && !flags.Changed("timeout") {
		r.timeout = 0
	}
	r.capture = &captureTransport{base: http.DefaultTransport}
	c, err := client.New(r.server,
		client.WithToken(strings.TrimSpace(token)),
		client.WithHTTPClient(&http.Client{Transport: r.capture}),
		client.WithUserAgent("ratchet-cli/"+buildinfo.Get().Version),
	)
	if err != nil {
		if r.serverFromEnv {
			return nil, NewUsageError("invalid %s: %w", envServer, err)
		}
		return nil, NewUsageError("invalid --server: %w", err)
	}
	r.client = c
	return r, nil
}

// call runs one request under the --timeout limit and turns its error
// into the form the CLI shows (fail).
func (r *remote) call(cmd *cobra.Command, fn func(ctx context.Context) error) error {
	ctx, cancel := r.context(cmd.Context())
	defer cancel()
	return r.fail(fn(ctx))
}

func (r *remote) context(parent context.Context) (context.Context, context.CancelFunc) {
	if r.timeout > 0 {
		return context.WithTimeout(parent, r.timeout)
	}
	return context.WithCancel(parent)
}

// fail turns an error of the client into the error the CLI prints: an
// error answer as "<type>: <message>", a transport failure naming the
// server and how to point the CLI elsewhere.
func (r *remote) fail(err error) error {
	if err == nil {
		return nil
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		return &remoteAPIError{err: ae}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer from the Ratchet server at %s within %s (raise --timeout): %w", r.server, r.timeout, err)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("interrupted: %w", err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &unreachableError{server: r.server, fromEnv: r.serverFromEnv, err: ue.Err}
	}
	return err
}

// remoteAPIError is an error answer of the server. It prints as
// "<type>: <message>", with the field at fault and any other details.
type remoteAPIError struct {
	err *client.APIError
}

func (e *remoteAPIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.err.Type, e.err.Message)
	var extra []string
	for k, v := range e.err.Details {
		switch k {
		case "field", "parameter":
			fmt.Fprintf(&b, " (%s: %v)", k, v)
		default:
			extra = append(extra, fmt.Sprintf("%s: %s", k, detailValue(v)))
		}
	}
	sort.Strings(extra)
	for _, s := range extra {
		b.WriteString("\n  " + s)
	}
	if e.err.TraceID != "" {
		b.WriteString("\n  request id: " + e.err.TraceID)
	}
	switch e.err.Status {
	case http.StatusUnauthorized:
		b.WriteString("\n  hint: give an API key with --token or " + envToken)
	case http.StatusForbidden:
		b.WriteString("\n  hint: the API key's role does not allow this")
	}
	return b.String()
}

func (e *remoteAPIError) Unwrap() error { return e.err }

func detailValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return truncate(string(b), 300)
}

// unreachableError is a request that got no answer: the server is down,
// or --server points elsewhere.
type unreachableError struct {
	server  string
	fromEnv bool
	err     error
}

func (e *unreachableError) Error() string {
	from := ""
	if e.fromEnv {
		from = " (from " + envServer + ")"
	}
	return fmt.Sprintf("cannot reach the Ratchet server at %s%s: %v\n"+
		"Is it running (ratchet serve)? Point the CLI at another server with --server URL or %s.",
		e.server, from, e.err, envServer)
}

func (e *unreachableError) Unwrap() error { return e.err }

// captureTransport keeps the body of the last answer, so that -o json
// prints exactly the JSON the server sent.
type captureTransport struct {
	base http.RoundTripper

	mu   sync.Mutex
	body []byte
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	t.mu.Lock()
	t.body = data
	t.mu.Unlock()
	return resp, nil
}

func (t *captureTransport) last() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.body
}

// printJSON prints the last answer's JSON, indented. An answer without a
// body (204) prints nothing.
func (r *remote) printJSON() error {
	raw := bytes.TrimSpace(r.capture.last())
	if len(raw) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("the server's answer is not JSON: %w", err)
	}
	buf.WriteByte('\n')
	_, err := r.app.Stdout.Write(buf.Bytes())
	return err
}

// render prints the last answer as JSON with -o json, else the table that
// table writes.
func (r *remote) render(table func(t *tableWriter)) error {
	if r.json {
		return r.printJSON()
	}
	t := newTable(r.app.Stdout)
	table(t)
	return t.flush()
}

// done prints a confirmation of an action (table output) or the answer's
// JSON (-o json).
func (r *remote) done(format string, args ...any) error {
	if r.json {
		return r.printJSON()
	}
	_, err := fmt.Fprintf(r.app.Stdout, format+"\n", args...)
	return err
}
