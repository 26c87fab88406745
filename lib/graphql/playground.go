package graphql

import (
	"bytes"
	"embed"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ratchet-go/ratchet/core"
)

// The playground is GraphiQL 3.9.0 on React 18.3.1 (UMD builds from npm,
// see playground/THIRD_PARTY_LICENSES.md), embedded so that the page loads
// nothing from the internet.
//
//go:embed playground/*.html playground/*.js playground/*.css
var playgroundFS embed.FS

// playgroundCSP lets the page load only its own files and talk only to
// this server (HTTP and WebSocket). GraphiQL sets element styles inline.
const playgroundCSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self' ws: wss:; worker-src 'self' blob:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// servePlaygroundPage serves GET /playground.
func servePlaygroundPage(w http.ResponseWriter, r *http.Request) {
	page, err := playgroundFS.ReadFile("playground/index.html")
	if err != nil {
		http.Error(w, "the playground is not built in", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", playgroundCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(page)
}

// servePlaygroundAsset serves GET /playground/* : the playground's scripts
// and style sheets by name, nothing else. Anything else is a NotFoundError,
// answered with the error envelope by the server's error handler.
func servePlaygroundAsset(c echo.Context) error {
	name := path.Clean(c.Param("*"))
	ext := path.Ext(name)
	var b []byte
	err := fs.ErrNotExist
	if (ext == ".js" || ext == ".css") && fs.ValidPath(name) {
		b, err = playgroundFS.ReadFile("playground/" + name)
	}
	if err != nil {
		return core.Errorf(core.KindNotFound, "the playground has no file %q", c.Param("*"))
	}
	h := c.Response().Header()
	h.Set("Content-Type", mime.TypeByExtension(ext))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=86400")
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(b))
	return nil
}
