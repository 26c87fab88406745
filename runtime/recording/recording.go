// Package recording records an execution for `ratchet run-once --record DIR`
// and replays it for `ratchet replay`.
//
// A recording folder holds input.json, output.json (or error.json when the
// execution failed) and requests.har: every HTTP exchange of the execution
// in HAR 1.2, with headers, bodies and timings. Credentials in request
// headers (Authorization, Cookie, API keys) are redacted. Replay turns the
// HAR entries back into fetch mocks (exact URL and method), runs the task
// again on the recorded input with the network off, and compares the new
// output with the recorded one. Each recorded response answers one call:
// when the same URL was called several times, the recorded responses answer
// the calls in recorded order, and a call to a URL that was not recorded (or
// one call too many) fails with NetworkError as the network is off.
package recording

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ratchet-go/ratchet/runtime/engine"
	"github.com/ratchet-go/ratchet/runtime/fetch"
	"github.com/ratchet-go/ratchet/runtime/jsondiff"
)

// File names in a recording folder.
const (
	InputFile  = "input.json"
	OutputFile = "output.json"
	ErrorFile  = "error.json"
	HARFile    = "requests.har"
)

// Recorder collects the exchanges of one execution. It implements
// fetch.Recorder.
type Recorder struct {
	mu        sync.Mutex
	exchanges []fetch.Exchange
}

var _ fetch.Recorder = (*Recorder)(nil)

// Record keeps one exchange.
func (r *Recorder) Record(ex fetch.Exchange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchanges = append(r.exchanges, ex)
}

// Exchanges returns what was recorded, in order.
func (r *Recorder) Exchanges() []fetch.Exchange {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]fetch.Exchange(nil), r.exchanges...)
}

// HAR is an HTTP Archive 1.2 document.
type HAR struct {
	Log HARLog `json:"log"`
}

// HARLog is the log of a HAR document.
type HARLog struct {
	Version string     `json:"version"`
	Creator HARCreator `json:"creator"`
	Entries []HAREntry `json:"entries"`
}

// HARCreator names the program that wrote the HAR.
type HARCreator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// HAREntry is one exchange.
type HAREntry struct {
	StartedDateTime string      `json:"startedDateTime"`
	Time            float64     `json:"time"`
	Request         HARRequest  `json:"request"`
	Response        HARResponse `json:"response"`
	Cache           struct{}    `json:"cache"`
	Timings         HARTimings  `json:"timings"`
	Comment         string      `json:"comment,omitempty"`
}

// HARRequest is the request of an entry.
type HARRequest struct {
	Method      string       `json:"method"`
	URL         string       `json:"url"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []HARNameVal `json:"cookies"`
	Headers     []HARNameVal `json:"headers"`
	QueryString []HARNameVal `json:"queryString"`
	PostData    *HARPostData `json:"postData,omitempty"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
}

// HARResponse is the response of an entry. Status 0 means no response was
// received (the entry's comment says why).
type HARResponse struct {
	Status      int          `json:"status"`
	StatusText  string       `json:"statusText"`
	HTTPVersion string       `json:"httpVersion"`
	Cookies     []HARNameVal `json:"cookies"`
	Headers     []HARNameVal `json:"headers"`
	Content     HARContent   `json:"content"`
	RedirectURL string       `json:"redirectURL"`
	HeadersSize int          `json:"headersSize"`
	BodySize    int          `json:"bodySize"`
}

// HARNameVal is a header, cookie or query parameter.
type HARNameVal struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// HARPostData is a request body.
type HARPostData struct {
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
}

// HARContent is a response body.
type HARContent struct {
	Size     int    `json:"size"`
	MimeType string `json:"mimeType"`
	Text     string `json:"text"`
}

// HARTimings are an entry's timings in milliseconds.
type HARTimings struct {
	Send    float64 `json:"send"`
	Wait    float64 `json:"wait"`
	Receive float64 `json:"receive"`
}

// sensitive headers are redacted in recordings.
var sensitive = map[string]bool{
	"authorization": true, "proxy-authorization": true, "cookie": true, "set-cookie": true,
	"x-api-key": true, "api-key": true, "x-auth-token": true,
}

// Redacted replaces the value of credential headers.
const Redacted = "[redacted]"

func headers(h http.Header) []HARNameVal {
	out := []HARNameVal{}
	for k, vs := range h {
		for _, v := range vs {
			if sensitive[strings.ToLower(k)] {
				v = Redacted
			}
			out = append(out, HARNameVal{Name: k, Value: v})
		}
	}
	sortNameVals(out)
	return out
}

func sortNameVals(v []HARNameVal) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && (v[j].Name < v[j-1].Name || (v[j].Name == v[j-1].Name && v[j].Value < v[j-1].Value)); j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BuildHAR turns exchanges into a HAR document.
func BuildHAR(exchanges []fetch.Exchange) HAR {
	h := HAR{Log: HARLog{Version: "1.2", Creator: HARCreator{Name: "ratchet", Version: "1.0"}, Entries: []HAREntry{}}}
	for _, ex := range exchanges {
		e := HAREntry{
			StartedDateTime: ex.StartedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"),
			Time:            ms(ex.Duration),
			Timings:         HARTimings{Send: 0, Wait: ms(ex.Duration), Receive: 0},
		}
		e.Request = HARRequest{
			Method: ex.Method, URL: ex.URL, HTTPVersion: "HTTP/1.1", Cookies: []HARNameVal{},
			Headers: headers(ex.RequestHeaders), QueryString: []HARNameVal{}, HeadersSize: -1, BodySize: len(ex.RequestBody),
		}
		if u, err := url.Parse(ex.URL); err == nil {
			for k, vs := range u.Query() {
				for _, v := range vs {
					e.Request.QueryString = append(e.Request.QueryString, HARNameVal{Name: k, Value: v})
				}
			}
			sortNameVals(e.Request.QueryString)
		}
		if ex.RequestBody != nil {
			e.Request.PostData = &HARPostData{MimeType: ex.RequestHeaders.Get("Content-Type"), Text: string(ex.RequestBody)}
		}
		e.Response = HARResponse{
			Status: ex.Status, StatusText: ex.StatusText, HTTPVersion: "HTTP/1.1", Cookies: []HARNameVal{},
			Headers: headers(ex.ResponseHeaders), HeadersSize: -1, BodySize: len(ex.ResponseBody),
			Content: HARContent{Size: len(ex.ResponseBody), MimeType: ex.ResponseHeaders.Get("Content-Type"), Text: string(ex.ResponseBody)},
		}
		if ex.FinalURL != "" && ex.FinalURL != ex.URL {
			e.Response.RedirectURL = ex.FinalURL
		}
		switch {
		case ex.Err != nil:
			e.Comment = "error: " + ex.Err.Error()
			e.Response.BodySize = -1
		case ex.Mocked:
			e.Comment = "mocked"
		}
		h.Log.Entries = append(h.Log.Entries, e)
	}
	return h
}

// ErrorRecord is the failure of a recorded execution (error.json).
type ErrorRecord struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

// Save writes a recording of an execution into dir, creating it.
func Save(dir string, input json.RawMessage, res engine.Result, exchanges []fetch.Exchange) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating recording folder: %w", err)
	}
	if len(bytes.TrimSpace(input)) == 0 {
		input = json.RawMessage("null")
	}
	write := func(name string, v any) error {
		b, err := json.MarshalIndent(v, "", "  ")
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		return nil
	}
	if err := write(InputFile, input); err != nil {
		return err
	}
	// A recording holds either an output or an error, never a stale one.
	for _, stale := range []string{OutputFile, ErrorFile} {
		if err := os.Remove(filepath.Join(dir, stale)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing old %s: %w", stale, err)
		}
	}
	if res.Err != nil {
		if err := write(ErrorFile, ErrorRecord{Type: string(res.Err.Kind), Message: res.Err.Message}); err != nil {
			return err
		}
	} else if err := write(OutputFile, res.Output); err != nil {
		return err
	}
	return write(HARFile, BuildHAR(exchanges))
}

// Recording is a recording folder read back.
type Recording struct {
	Input json.RawMessage
	// Output is nil when the execution failed; Error is then set.
	Output json.RawMessage
	Error  *ErrorRecord
	HAR    HAR
}

// Load reads a recording folder.
func Load(dir string) (*Recording, error) {
	read := func(name string, v any) (bool, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("reading recording: %w", err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			return false, fmt.Errorf("reading recording: %s: %w", name, err)
		}
		return true, nil
	}
	r := &Recording{}
	if ok, err := read(InputFile, &r.Input); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("reading recording: %s is missing in %s", InputFile, dir)
	}
	if ok, err := read(HARFile, &r.HAR); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("reading recording: %s is missing in %s", HARFile, dir)
	}
	if _, err := read(OutputFile, &r.Output); err != nil {
		return nil, err
	}
	var e ErrorRecord
	if ok, err := read(ErrorFile, &e); err != nil {
		return nil, err
	} else if ok {
		r.Error = &e
	}
	if r.Output == nil && r.Error == nil {
		return nil, fmt.Errorf("reading recording: neither %s nor %s in %s", OutputFile, ErrorFile, dir)
	}
	return r, nil
}

// Mocks turns the recorded exchanges into fetch mocks, in recorded order.
// Each mock matches the exact method and URL and answers once. Exchanges
// that got no response are left out, so the replayed fetch fails with
// NetworkError as the original did.
func (r *Recording) Mocks() []fetch.Mock {
	var mocks []fetch.Mock
	for _, e := range r.HAR.Log.Entries {
		if e.Response.Status == 0 {
			continue
		}
		m := fetch.Mock{URL: e.Request.URL, Method: e.Request.Method, Exact: true, Once: true}
		resp := fetch.MockResponse{Status: e.Response.Status, StatusText: e.Response.StatusText, Headers: map[string]string{}, Raw: true}
		ok := e.Response.Status >= 200 && e.Response.Status <= 299
		resp.OK = &ok
		for _, h := range e.Response.Headers {
			if prev, dup := resp.Headers[h.Name]; dup {
				resp.Headers[h.Name] = prev + ", " + h.Value
			} else {
				resp.Headers[h.Name] = h.Value
			}
		}
		// The body goes back as the exact text; fetch parses it as JSON when
		// the recorded Content-Type says JSON, as it did when recording.
		b, _ := json.Marshal(e.Response.Content.Text)
		resp.Body = b
		m.Response = resp
		mocks = append(mocks, m)
	}
	return mocks
}

// ReplayResult is the outcome of a replay.
type ReplayResult struct {
	Recording *Recording
	Result    engine.Result
	// Match reports whether the replay ended as the recording did: the same
	// output (deep JSON equality), or the same error type.
	Match bool
	// Diff lists the differences when both are outputs.
	Diff []string
	// Message explains a mismatch.
	Message string
}

// Replay runs spec on the recording in dir with its responses as mocks and
// the network off.
func Replay(ctx context.Context, eng *engine.Engine, spec engine.TaskSpec, dir string) (*ReplayResult, error) {
	rec, err := Load(dir)
	if err != nil {
		return nil, err
	}
	res := eng.Execute(ctx, engine.Request{Task: spec, Input: rec.Input, Mocks: rec.Mocks(), NetworkDisabled: true,
		Context: engine.ExecContext{ExecutionID: "replay", TaskName: spec.Name, TaskVersion: spec.Version, Attempt: 1}})
	out := &ReplayResult{Recording: rec, Result: res}
	switch {
	case rec.Error != nil && res.Err != nil:
		out.Match = rec.Error.Type == string(res.Err.Kind)
		if !out.Match {
			out.Message = fmt.Sprintf("recorded %s: %s, replay failed with %s: %s", rec.Error.Type, rec.Error.Message, res.Err.Kind, res.Err.Message)
		}
	case rec.Error != nil:
		out.Message = fmt.Sprintf("recorded %s: %s, replay succeeded", rec.Error.Type, rec.Error.Message)
	case res.Err != nil:
		out.Message = fmt.Sprintf("recorded an output, replay failed with %s: %s", res.Err.Kind, res.Err.Message)
	default:
		out.Diff = jsondiff.Diff(rec.Output, res.Output)
		out.Match = len(out.Diff) == 0
		if !out.Match {
			out.Message = "the output differs from the recorded output"
		}
	}
	return out, nil
}
