package api

import (
	"net/http"

	"github.com/mamori-sec/mamori/internal/console"
)

// consolePages are the paths the console's single page answers; it reads
// the rest of its state from the URL's query.
var consolePages = []string{"/{$}", "/search", "/alerts", "/alerts/{id}", "/sources", "/login"}

// routeConsole adds the web console and the read endpoints it uses beyond
// search and alerts: histogram, facets and sources.
func (s *Server) routeConsole(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/histogram", s.handleHistogram)
	mux.HandleFunc("GET /api/v1/facets", s.handleFacets)
	mux.HandleFunc("GET /api/v1/sources", s.handleSources)
	page := console.Handler()
	for _, p := range consolePages {
		mux.Handle("GET "+p, page)
	}
	mux.Handle("GET "+console.AssetsPrefix, page)
}
