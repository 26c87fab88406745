package api

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

func TestReferenceHTML(t *testing.T) {
	t.Parallel()
	page := ReferenceHTML()
	if !bytes.HasPrefix(page, []byte("<!DOCTYPE html>")) {
		t.Fatal("not an HTML document")
	}
	// Nothing is loaded from anywhere: no scripts, stylesheets, images,
	// fonts or frames by URL.
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)<(script|link|img|iframe|object|embed)\b`),
		regexp.MustCompile(`(?i)\bsrc\s*=`),
		regexp.MustCompile(`(?i)@import|url\(`),
	} {
		if m := re.Find(page); m != nil {
			t.Errorf("the page loads an asset: %s", m)
		}
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`id="([^"]+)"`).FindAllSubmatch(page, -1) {
		ids[string(m[1])] = true
	}
	for _, m := range regexp.MustCompile(`href="([^"]+)"`).FindAllSubmatch(page, -1) {
		href := string(m[1])
		switch {
		case strings.HasPrefix(href, "#"):
			if !ids[href[1:]] {
				t.Errorf("broken link %s", href)
			}
		case href == "openapi.json" || href == "openapi.yaml":
		default:
			t.Errorf("link out of the page: %s", href)
		}
	}
	for _, r := range Routes() {
		if !ids["op-"+r.OperationID] {
			t.Errorf("operation %s is not on the page", r.OperationID)
		}
	}
	for _, s := range []string{"schema-Job", "schema-ErrorEnvelope", "schema-CreateTaskRequest"} {
		if !ids[s] {
			t.Errorf("schema %s is not on the page", s)
		}
	}
	if !bytes.Contains(page, []byte("<code>queued</code>")) {
		t.Error("job status values are not shown")
	}
}
