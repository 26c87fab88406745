package recording

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/ratchet-go/ratchet/runtime/engine"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestRecordAndReplay(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/user":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"login": %q, "followers": 12}`, r.URL.Query().Get("name"))
		case "/note":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "hello")
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	eng, err := engine.New(engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := engine.TaskSpec{Name: "rec", Code: fmt.Sprintf(`async function main(input) {
		const u = await fetch(%q + input.name, {headers: {Authorization: "Bearer secret"}});
		const n = fetch(%q, {method: "POST", body: {x: 1}});
		const missing = fetch(%q, {throwOnError: false});
		return {login: u.body.login, followers: u.body.followers, note: n.body, missing: missing.status};
	}`, srv.URL+"/user?name=", srv.URL+"/note", srv.URL+"/missing")}
	input := json.RawMessage(`{"name": "octo"}`)
	rec := &Recorder{}
	res := eng.Execute(t.Context(), engine.Request{Task: spec, Input: input, Recorder: rec})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	dir := filepath.Join(t.TempDir(), "rec")
	if err := Save(dir, input, res, rec.Exchanges()); err != nil {
		t.Fatal(err)
	}
	harBytes, err := os.ReadFile(filepath.Join(dir, HARFile))
	if err != nil {
		t.Fatal(err)
	}
	var har HAR
	if err := json.Unmarshal(harBytes, &har); err != nil {
		t.Fatal(err)
	}
	if har.Log.Version != "1.2" || len(har.Log.Entries) != 3 {
		t.Fatalf("har = %s", harBytes)
	}
	e0, e1 := har.Log.Entries[0], har.Log.Entries[1]
	if e0.Request.Method != "GET" || e0.Response.Status != 200 || !strings.Contains(e0.Response.Content.Text, "octo") ||
		e0.Response.Content.MimeType != "application/json" || len(e0.Request.QueryString) != 1 || e0.StartedDateTime == "" {
		t.Fatalf("entry 0 = %+v", e0)
	}
	if strings.Contains(string(harBytes), "secret") || !strings.Contains(string(harBytes), Redacted) {
		t.Fatal("credentials not redacted")
	}
	if e1.Request.PostData == nil || e1.Request.PostData.Text != `{"x":1}` || e1.Request.PostData.MimeType != "application/json" {
		t.Fatalf("entry 1 = %+v", e1.Request)
	}
	for _, f := range []string{InputFile, OutputFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}

	// Replay with the server gone: the recorded responses answer.
	srv.Close()
	rr, err := Replay(t.Context(), eng, spec, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rr.Match || rr.Result.Err != nil {
		t.Fatalf("replay = %+v (%v)", rr, rr.Result.Err)
	}
	if string(rr.Result.Output) != `{"login":"octo","followers":12,"note":"hello","missing":404}` {
		t.Fatalf("output = %s", rr.Result.Output)
	}
	for _, l := range rr.Result.HTTPRequests {
		if !l.Mocked {
			t.Fatalf("replay used the network: %+v", l)
		}
	}

	// A changed task no longer matches.
	changed := spec
	changed.Code = strings.Replace(spec.Code, "followers: u.body.followers", "followers: u.body.followers + 1", 1)
	rr, err = Replay(t.Context(), eng, changed, dir)
	if err != nil {
		t.Fatal(err)
	}
	if rr.Match || len(rr.Diff) != 1 || rr.Diff[0] != "$.followers: expected 12, got 13" {
		t.Fatalf("replay of a changed task = %+v", rr)
	}
}

func TestRecordFailure(t *testing.T) {
	t.Parallel()
	eng, err := engine.New(engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec := engine.TaskSpec{Name: "fail", Code: `function main(){ fetch("http://127.0.0.1:1/") }`}
	rec := &Recorder{}
	res := eng.Execute(t.Context(), engine.Request{Task: spec, Recorder: rec})
	if res.Err == nil {
		t.Fatal("no error")
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, OutputFile), []byte("{}"), 0o644) // stale
	if err := Save(dir, nil, res, rec.Exchanges()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, OutputFile)); err == nil {
		t.Fatal("stale output.json kept")
	}
	r, err := Load(dir)
	if err != nil || r.Error == nil || r.Error.Type != "NetworkError" || string(r.Input) != "null" {
		t.Fatalf("Load = %+v, %v", r, err)
	}
	if len(r.HAR.Log.Entries) != 1 || !strings.HasPrefix(r.HAR.Log.Entries[0].Comment, "error: ") || len(r.Mocks()) != 0 {
		t.Fatalf("har = %+v", r.HAR)
	}
	rr, err := Replay(t.Context(), eng, spec, dir)
	if err != nil || !rr.Match {
		t.Fatalf("replay = %+v, %v", rr, err)
	}
	if _, err := Load(t.TempDir()); err == nil {
		t.Fatal("empty folder loaded")
	}
}

func TestReplaySameURLInOrderAndExactURL(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"n": %d}`, n)
	}))
	t.Cleanup(srv.Close)
	eng, err := engine.New(engine.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	recorded := fmt.Sprintf(`function main() {
		return [fetch(%[1]q).body.n, fetch(%[1]q).body.n, fetch(%[1]q).body.n];
	}`, srv.URL+"/count")
	spec := engine.TaskSpec{Name: "same", Code: recorded}
	rec := &Recorder{}
	res := eng.Execute(t.Context(), engine.Request{Task: spec, Recorder: rec})
	if res.Err != nil || string(res.Output) != `[1,2,3]` {
		t.Fatalf("recording run = %s, %v", res.Output, res.Err)
	}
	dir := filepath.Join(t.TempDir(), "rec")
	if err := Save(dir, nil, res, rec.Exchanges()); err != nil {
		t.Fatal(err)
	}
	srv.Close()

	tests := []struct {
		name      string
		code      string
		wantMatch bool
		wantOut   string
		wantErr   string
	}{
		{"same calls replay in order", recorded, true, `[1,2,3]`, ""},
		{"changed URL is a mismatch", fmt.Sprintf(`function main() {
			return [fetch(%[1]q).body.n, fetch(%[1]q).body.n, fetch(%[1]q).body.n];
		}`, srv.URL+"/count?x=1"), false, "", "NetworkError"},
		{"one call too many is a mismatch", strings.Replace(recorded, "return [", "fetch("+fmt.Sprintf("%q", srv.URL+"/count")+"); return [", 1), false, "", "NetworkError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr, err := Replay(t.Context(), eng, engine.TaskSpec{Name: "same", Code: tt.code}, dir)
			if err != nil {
				t.Fatal(err)
			}
			if rr.Match != tt.wantMatch {
				t.Fatalf("match = %v, want %v (%+v, %v)", rr.Match, tt.wantMatch, rr, rr.Result.Err)
			}
			if tt.wantOut != "" && string(rr.Result.Output) != tt.wantOut {
				t.Fatalf("output = %s, want %s", rr.Result.Output, tt.wantOut)
			}
			if tt.wantErr != "" && (rr.Result.Err == nil || string(rr.Result.Err.Kind) != tt.wantErr) {
				t.Fatalf("error = %v, want %s", rr.Result.Err, tt.wantErr)
			}
		})
	}
}
