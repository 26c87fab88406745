package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ratchet-go/ratchet/api/listquery"
)

// DefaultUserAgent is sent unless WithUserAgent says otherwise.
const DefaultUserAgent = "ratchet-go-client/1"

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// Client calls a Ratchet server's REST API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	http      *http.Client
	token     string
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithToken authenticates every request with an API key (Bearer).
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sets the HTTP client (default http.DefaultClient); set
// timeouts and transports there.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the server at baseURL, such as
// "http://127.0.0.1:8080" (a trailing /api/v1 is accepted too).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("invalid server URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid server URL %q: want http://host:port or https://host", baseURL)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/api/v1")
	u.RawPath, u.RawQuery, u.Fragment = "", "", ""
	c := &Client{base: u, http: http.DefaultClient, userAgent: DefaultUserAgent}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL is the server's root URL.
func (c *Client) BaseURL() string { return c.base.String() }

// ListOptions selects a page of a list, in the Refine simple-rest
// convention the server speaks.
type ListOptions struct {
	// Start is the index of the first item; End the index after the last
	// (End 0: the server's default page size, 25).
	Start, End int
	// Sort and Order are comma lists: "status,created_at" and "asc,desc".
	Sort, Order string
	// Filters maps a field, optionally with an operator suffix (_ne,
	// _like, _gte, _lte), to its values: {"status": {"failed",
	// "cancelled"}} selects either status.
	Filters map[string][]string
	// Q is a free-text search.
	Q string
}

// Values is the query string of o.
func (o ListOptions) Values() url.Values {
	v := url.Values{}
	if o.Start > 0 || o.End > 0 {
		v.Set(listquery.ParamStart, strconv.Itoa(o.Start))
	}
	if o.End > 0 {
		v.Set(listquery.ParamEnd, strconv.Itoa(o.End))
	}
	if o.Sort != "" {
		v.Set(listquery.ParamSort, o.Sort)
	}
	if o.Order != "" {
		v.Set(listquery.ParamOrder, o.Order)
	}
	if o.Q != "" {
		v.Set(listquery.ParamQ, o.Q)
	}
	for k, vals := range o.Filters {
		for _, val := range vals {
			v.Add(k, val)
		}
	}
	return v
}

// request describes one call.
type request struct {
	method, path string
	query        url.Values
	body         any
	// raw is sent as is with contentType instead of body.
	raw         io.Reader
	contentType string
	// ok lists the statuses decoded into out as success; 2xx by default.
	ok []int
}

// response is what do returns for a success.
type response struct {
	status int
	header http.Header
}

// url joins the base URL and an escaped path.
func (c *Client) url(path string, q url.Values) string {
	s := strings.TrimSuffix(c.base.String(), "/") + path
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return s
}

// do sends req and decodes a success into out (unless out is nil or a
// *[]byte, which receives the raw body). Errors are *APIError for answers,
// wrapped transport errors otherwise.
func (c *Client) do(ctx context.Context, req request, out any) (response, error) {
	var body io.Reader
	contentType := req.contentType
	switch {
	case req.raw != nil:
		body = req.raw
	case req.body != nil:
		b, err := json.Marshal(req.body)
		if err != nil {
			return response{}, fmt.Errorf("%s %s: encoding the body: %w", req.method, req.path, err)
		}
		body, contentType = bytes.NewReader(b), "application/json"
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, c.url(req.path, req.query), body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	if contentType != "" {
		hr.Header.Set("Content-Type", contentType)
	}
	hr.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		hr.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	defer resp.Body.Close()
	success := resp.StatusCode >= 200 && resp.StatusCode < 300
	for _, s := range req.ok {
		if resp.StatusCode == s {
			success = true
		}
	}
	if !success {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return response{}, decodeError(resp, data)
	}
	r := response{status: resp.StatusCode, header: resp.Header}
	switch o := out.(type) {
	case nil:
		_, _ = io.Copy(io.Discard, resp.Body)
	case *[]byte:
		if *o, err = io.ReadAll(resp.Body); err != nil {
			return r, fmt.Errorf("%s %s: reading the answer: %w", req.method, req.path, err)
		}
	default:
		if resp.StatusCode == http.StatusNoContent {
			return r, nil
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return r, fmt.Errorf("%s %s: decoding the answer: %w", req.method, req.path, err)
		}
	}
	return r, nil
}

// list fetches one page of a list and its total.
func list[T any](ctx context.Context, c *Client, path string, opts ListOptions) ([]T, int, error) {
	var items []T
	r, err := c.do(ctx, request{method: http.MethodGet, path: path, query: opts.Values()}, &items)
	if err != nil {
		return nil, 0, err
	}
	if items == nil {
		items = []T{}
	}
	return items, totalOf(r.header, len(items), opts.Start), nil
}

// totalOf reads X-Total-Count, else Content-Range, else counts the page.
func totalOf(h http.Header, n, start int) int {
	if s := h.Get(listquery.HeaderTotalCount); s != "" {
		if t, err := strconv.Atoi(strings.TrimSpace(s)); err == nil && t >= 0 {
			return t
		}
	}
	if s := h.Get(listquery.HeaderContentRange); s != "" {
		if _, _, _, t, err := listquery.ParseContentRange(s); err == nil {
			return t
		}
	}
	return start + n
}

func get[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var out T
	if _, err := c.do(ctx, request{method: http.MethodGet, path: path}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func send[T any](ctx context.Context, c *Client, method, path string, body any) (*T, error) {
	var out T
	if _, err := c.do(ctx, request{method: method, path: path, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func idPath(prefix string, id int64, suffix string) string {
	return prefix + "/" + strconv.FormatInt(id, 10) + suffix
}

func refPath(prefix, ref, suffix string) string {
	return prefix + "/" + url.PathEscape(ref) + suffix
}
