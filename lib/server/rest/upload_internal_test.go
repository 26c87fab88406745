package rest

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/api/apitypes"
	"github.com/ratchet-go/ratchet/core"
)

func TestUploadFromRequest(t *testing.T) {
	up, err := uploadFromRequest(apitypes.CreateTaskRequest{
		Name: "t", Code: "(function(){})", Metadata: json.RawMessage(`{"label":"T"}`),
		InputSchema: json.RawMessage(`{"type":"object"}`), OutputSchema: json.RawMessage(`null`),
		Tests: []json.RawMessage{[]byte(`{"input":{}}`), []byte(`{"file":"named","input":{}}`), []byte(`{"file":"tests/b.json","input":{}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range up.Files {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"input.schema.json", "main.js", "metadata.json", "tests/001.json", "tests/b.json", "tests/named.json"}
	if up.Name != "t" || !slices.Equal(names, want) {
		t.Errorf("files %v (name %q), want %v", names, up.Name, want)
	}
	if fs, err := testFiles([]json.RawMessage{[]byte(`{"file":"../../x"}`)}); err != nil || fs["tests/x.json"] == nil {
		t.Errorf("a file name is cleaned into tests/: %v %v", fs, err)
	}
	for _, bad := range []string{`{"file":"a/b.json"}`, `{"file":"/"}`} {
		if _, err := testFiles([]json.RawMessage{[]byte(bad)}); core.KindOf(err) != core.KindInvalidArgument {
			t.Errorf("test file %s: %v", bad, err)
		}
	}
	if _, err := testFiles([]json.RawMessage{[]byte(`{"file":"a"}`), []byte(`{"file":"a.json"}`)}); err == nil {
		t.Error("two tests named alike were accepted")
	}
}

func TestUploadFromMultipart(t *testing.T) {
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("main.js")
	_, _ = w.Write([]byte("(function(){})"))
	_ = zw.Close()

	h := &handlers{opts: Options{MaxMultipartMemory: 1 << 20}}
	post := func(build func(*multipart.Writer)) echo.Context {
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		build(mw)
		_ = mw.Close()
		req := httptest.NewRequest(http.MethodPost, "/tasks", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		return echo.New().NewContext(req, httptest.NewRecorder())
	}
	up, err := h.uploadFromMultipart(post(func(mw *multipart.Writer) {
		fw, _ := mw.CreateFormFile("file", "My-Task.zip")
		_, _ = fw.Write(zb.Bytes())
	}))
	if err != nil || up.Name != "My-Task" || len(up.Zip) == 0 || up.Files != nil {
		t.Errorf("zip part: %+v %v", up, err)
	}
	up, err = h.uploadFromMultipart(post(func(mw *multipart.Writer) {
		_ = mw.WriteField("name", "files")
		fw, _ := mw.CreateFormFile("main.js", "main.js")
		_, _ = fw.Write([]byte("(function(){})"))
		fw, _ = mw.CreateFormFile("upload", "metadata.json")
		_, _ = fw.Write([]byte(`{}`))
	}))
	if err != nil || up.Name != "files" || len(up.Files) != 2 || up.Files["metadata.json"] == nil {
		t.Errorf("file parts: %+v %v", up, err)
	}
	_, err = h.uploadFromMultipart(post(func(mw *multipart.Writer) { _ = mw.WriteField("name", "x") }))
	if core.KindOf(err) != core.KindInvalidArgument {
		t.Errorf("no file: %v", err)
	}
}
