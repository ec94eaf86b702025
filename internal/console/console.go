// Package console is mamori's web console: plain HTML, CSS and JavaScript
// modules embedded in the binary, served by `mamori serve` (the API
// package routes it). No build step: the files are the source.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed static
var static embed.FS

// ContentSecurityPolicy is sent with every console response. The console
// has no inline script or style and talks to its own origin only, so a
// strict policy holds: log data shown by the console is written as text,
// and even a mistake that let markup through could not run a script.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// AssetsPrefix is where the static files are served.
const AssetsPrefix = "/assets/"

// Files returns the console's files: index.html and assets/.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// The embedded tree is fixed at build time: "static" exists.
		panic(err)
	}
	return sub
}

// Handler serves the console: files under /assets/, and the single page
// (index.html) for any other path it is given, since the page routes
// itself from the URL. The caller decides which paths are console pages.
func Handler() http.Handler {
	files := Files()
	index, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err)
	}
	assets := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		SecurityHeaders(w.Header())
		if strings.HasPrefix(r.URL.Path, AssetsPrefix) {
			name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
			if st, err := fs.Stat(files, name); err != nil || st.IsDir() {
				http.NotFound(w, r)
				return
			}
			// Assets change with the binary; a short cache keeps a new
			// version visible soon after an upgrade.
			w.Header().Set("Cache-Control", "max-age=300")
			assets.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(index)
	})
}

// SecurityHeaders sets the headers every console response carries.
func SecurityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
}
