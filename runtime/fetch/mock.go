package fetch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Mock answers the fetch calls whose URL equals or contains URL and whose
// method is Method (any method when empty) with Response, without touching
// the network (SPEC §2.5).
//
// Replay sets Exact and Once, which test files cannot: an exact mock matches
// only the same method and full URL, and a once mock answers a single
// request, so several recorded responses for one URL answer the calls in
// recorded order.
type Mock struct {
	URL      string       `json:"url"`
	Method   string       `json:"method,omitempty"`
	Response MockResponse `json:"response"`
	Exact    bool         `json:"exact,omitempty"`
	Once     bool         `json:"once,omitempty"`
}

// MockResponse is what a mock answers. Body holds what the response's body
// will be: a JSON object or array is the parsed body, a JSON string is the
// text body, whatever the headers say. OK defaults to whether Status is 2xx;
// Status defaults to 200.
//
// Raw (set by replay, not by test files) makes a string Body the response's
// exact text, read as a real response is: parsed as JSON when the
// Content-Type header says JSON.
type MockResponse struct {
	OK         *bool             `json:"ok,omitempty"`
	Status     int               `json:"status,omitempty"`
	StatusText string            `json:"statusText,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	Body       json.RawMessage   `json:"body,omitempty"`
	Raw        bool              `json:"raw,omitempty"`
}

// Matches reports whether the mock answers a request.
func (m Mock) Matches(method, url string) bool {
	if m.Method != "" && !strings.EqualFold(m.Method, method) {
		return false
	}
	if m.Exact {
		return url == m.URL
	}
	return url == m.URL || strings.Contains(url, m.URL)
}

// StatusCode is the mock's status with its default.
func (r MockResponse) StatusCode() int {
	if r.Status == 0 {
		return http.StatusOK
	}
	return r.Status
}

// IsOK is the mock's ok with its default.
func (r MockResponse) IsOK() bool {
	if r.OK != nil {
		return *r.OK
	}
	s := r.StatusCode()
	return s >= 200 && s <= 299
}

// Find returns the first mock in list order that answers the request.
func Find(mocks []Mock, method, url string) (Mock, bool) {
	if i := find(mocks, nil, method, url); i >= 0 {
		return mocks[i], true
	}
	return Mock{}, false
}

// find returns the index of the first mock that answers the request and is
// not used up (used[i] set for a once mock), or -1.
func find(mocks []Mock, used []bool, method, url string) int {
	for i, m := range mocks {
		if m.Once && i < len(used) && used[i] {
			continue
		}
		if m.Matches(method, url) {
			return i
		}
	}
	return -1
}

// ParseMocks reads the value of a test's "mock.http": one mock or a list.
func ParseMocks(raw json.RawMessage) ([]Mock, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("mock.http: %w", err)
		}
	} else {
		items = []json.RawMessage{raw}
	}
	mocks := make([]Mock, 0, len(items))
	for i, it := range items {
		m, err := parseMock(it)
		if err != nil {
			if len(items) > 1 || raw[0] == '[' {
				return nil, fmt.Errorf("mock.http[%d]: %w", i, err)
			}
			return nil, fmt.Errorf("mock.http: %w", err)
		}
		mocks = append(mocks, m)
	}
	return mocks, nil
}

func parseMock(raw json.RawMessage) (Mock, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Mock{}, errors.New("a mock must be an object {url, method?, response}")
	}
	var m Mock
	if err := json.Unmarshal(fields["url"], &m.URL); err != nil || m.URL == "" {
		return Mock{}, errors.New(`"url" must be a non-empty string`)
	}
	if v, ok := fields["method"]; ok {
		if err := json.Unmarshal(v, &m.Method); err != nil {
			return Mock{}, errors.New(`"method" must be a string`)
		}
		m.Method = strings.ToUpper(m.Method)
	}
	resp, ok := fields["response"]
	if !ok {
		return Mock{}, errors.New(`"response" is missing`)
	}
	var rf map[string]json.RawMessage
	if err := json.Unmarshal(resp, &rf); err != nil || rf == nil {
		return Mock{}, errors.New(`"response" must be an object {ok?, status?, statusText?, headers?, body}`)
	}
	r := &m.Response
	if v, ok := rf["ok"]; ok {
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return Mock{}, errors.New(`"response.ok" must be a boolean`)
		}
		r.OK = &b
	}
	if v, ok := rf["status"]; ok {
		if err := json.Unmarshal(v, &r.Status); err != nil || r.Status < 100 || r.Status > 599 {
			return Mock{}, errors.New(`"response.status" must be an HTTP status between 100 and 599`)
		}
	}
	for _, k := range []string{"statusText", "status_text"} {
		if v, ok := rf[k]; ok {
			if err := json.Unmarshal(v, &r.StatusText); err != nil {
				return Mock{}, fmt.Errorf(`"response.%s" must be a string`, k)
			}
		}
	}
	if v, ok := rf["headers"]; ok {
		var h map[string]any
		if err := json.Unmarshal(v, &h); err != nil {
			return Mock{}, errors.New(`"response.headers" must be an object`)
		}
		r.Headers = make(map[string]string, len(h))
		for k, val := range h {
			switch val := val.(type) {
			case string:
				r.Headers[k] = val
			default:
				b, _ := json.Marshal(val)
				r.Headers[k] = string(b)
			}
		}
	}
	if v, ok := rf["body"]; ok {
		r.Body = append(json.RawMessage(nil), v...)
	}
	return m, nil
}
