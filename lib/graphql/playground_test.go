package graphql_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

func testPlayground(t *testing.T, e *env) {
	resp, err := e.http.Client().Get(e.http.URL + "/playground")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /playground: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Fatalf("Content-Security-Policy = %q", csp)
	}
	// Every asset is local: no src or href leaves the server.
	refs := regexp.MustCompile(`(?:src|href)="([^"]*)"`).FindAllStringSubmatch(string(page), -1)
	if len(refs) < 4 {
		t.Fatalf("the page references %d assets, want the scripts and the style sheet", len(refs))
	}
	if strings.Contains(string(page), "://") {
		t.Fatal("the page names an absolute URL")
	}
	for _, ref := range refs {
		u := ref[1]
		if !strings.HasPrefix(u, "/playground/") {
			t.Fatalf("asset %q is not under /playground/", u)
		}
		r, err := e.http.Client().Get(e.http.URL + u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || len(body) == 0 {
			t.Fatalf("GET %s: %d, %d bytes", u, r.StatusCode, len(body))
		}
		if strings.Contains(string(body), "cdn.jsdelivr.net") || strings.Contains(string(body), "unpkg.com") {
			t.Fatalf("%s loads from a CDN", u)
		}
	}
	for _, p := range []string{"/playground/nope.js", "/playground/THIRD_PARTY_LICENSES.md", "/playground/../graphql"} {
		r, err := e.http.Client().Get(e.http.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusNotFound {
			t.Fatalf("GET %s: %d, want 404", p, r.StatusCode)
		}
		// The error envelope of SPEC §4.1, as everywhere else.
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
			!strings.Contains(string(body), `"type":"NotFoundError"`) || !strings.Contains(string(body), `"statusCode":404`) {
			t.Fatalf("GET %s: %s %s, want the JSON error envelope", p, r.Header.Get("Content-Type"), body)
		}
	}
}
