// Package api serves mamori's HTTP API: intake, search, alerts and rules,
// health and metrics.
package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/search"
)

// Server is the HTTP API.
type Server struct {
	Sink         intake.Sink
	Datasets     *dataset.Registry
	Searcher     *search.Searcher
	Metrics      *metrics.Metrics
	Logger       *slog.Logger
	Now          func() time.Time
	MaxBodyBytes int64
	Version      string
	// Health reports extra state for /api/v1/health (queue depth, ...).
	Health func(ctx context.Context) map[string]any
	// Scan looks for archive objects not yet processed; it returns how many
	// it queued.
	Scan func(ctx context.Context) (int, error)
	// Alerts and Rules serve /api/v1/alerts and /api/v1/rules; nil leaves
	// those routes out.
	Alerts Alerts
	Rules  Rules
	// Pprof serves Go's profiling endpoints under /debug/pprof/.
	Pprof bool
	// Sources tracks listener rates and stale datasets for
	// /api/v1/sources; nil reports the listeners without rates.
	Sources *Sources
	// Auth is access control (auth.go); nil, or no users configured,
	// leaves every route open.
	Auth *auth.Service
}

// Handler returns the API's routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/intake/{dataset}", s.handleIntake)
	mux.HandleFunc("GET /api/v1/search", s.handleSearch)
	mux.HandleFunc("GET /api/v1/health", s.handleHealth)
	mux.HandleFunc("GET /api/v1/datasets", s.handleDatasets)
	if s.Scan != nil {
		mux.HandleFunc("POST /api/v1/archive/scan", s.handleScan)
	}
	s.routeDetection(mux)
	s.routeConsole(mux)
	if s.Pprof {
		mux.HandleFunc("GET /debug/pprof/", pprof.Index)
		mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	}
	if s.Metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.Metrics.Registry, promhttp.HandlerOpts{}))
	}
	s.routeAuth(mux)
	return s.authenticate(mux)
}

type errorBody struct {
	Error string `json:"error"`
	// Position is the byte offset of a query syntax error.
	Position *int `json:"position,omitempty"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// maxRecordBytes caps one line of an intake body.
const maxRecordBytes = 16 << 20

func (s *Server) handleIntake(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("dataset")
	if _, ok := s.Datasets.Lookup(name); !ok {
		s.reject(w, "unknown_dataset", http.StatusBadRequest,
			fmt.Sprintf("unknown dataset %q; known datasets: %s", name, strings.Join(s.Datasets.Names(), ", ")))
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.MaxBodyBytes)
	var rd io.Reader = body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			s.reject(w, "bad_encoding", http.StatusBadRequest, "gzip body: "+err.Error())
			return
		}
		defer zr.Close()
		rd = zr
	case "zstd":
		zr, err := zstd.NewReader(body, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(s.MaxBodyBytes)))
		if err != nil {
			s.reject(w, "bad_encoding", http.StatusBadRequest, "zstd body: "+err.Error())
			return
		}
		defer zr.Close()
		rd = zr
	default:
		s.reject(w, "bad_encoding", http.StatusUnsupportedMediaType, fmt.Sprintf("Content-Encoding %q is not supported (gzip, zstd)", enc))
		return
	}
	// The decompressed size is capped too: a small zstd body must not
	// become gigabytes in memory.
	rd = &limitedReader{r: rd, n: s.MaxBodyBytes}

	now := s.now()
	peer := r.RemoteAddr
	var recs []intake.Record
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), maxRecordBytes)
	for sc.Scan() {
		line := bytes.TrimRight(sc.Bytes(), "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		recs = append(recs, intake.Record{Data: append([]byte(nil), line...), Received: now, Peer: peer})
	}
	if err := sc.Err(); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe) || errors.Is(err, errTooLarge) ||
			errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded):
			s.reject(w, "too_large", http.StatusRequestEntityTooLarge, fmt.Sprintf("body over the limit of %d bytes", s.MaxBodyBytes))
		case errors.Is(err, bufio.ErrTooLong):
			s.reject(w, "too_large", http.StatusRequestEntityTooLarge, fmt.Sprintf("a record is over the limit of %d bytes", maxRecordBytes))
		default:
			s.reject(w, "bad_body", http.StatusBadRequest, "read body: "+err.Error())
		}
		return
	}
	if len(recs) == 0 {
		writeJSON(w, http.StatusOK, map[string]any{"accepted": 0})
		return
	}
	err := s.Sink.Write(r.Context(), intake.Batch{Dataset: name, Listener: "http", Records: recs})
	if err != nil {
		if errors.Is(err, intake.ErrBusy) {
			w.Header().Set("Retry-After", "5")
			s.reject(w, "busy", http.StatusTooManyRequests, "mamori is processing a backlog; retry later")
			return
		}
		s.Logger.Error("intake write failed", "dataset", name, "records", len(recs), "err", err)
		w.Header().Set("Retry-After", "10")
		s.reject(w, "archive_error", http.StatusServiceUnavailable, "could not archive the batch; retry later")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accepted": len(recs)})
}

func (s *Server) reject(w http.ResponseWriter, reason string, code int, msg string) {
	if s.Metrics != nil {
		s.Metrics.IntakeRejected.WithLabelValues("http", reason).Inc()
	}
	writeError(w, code, msg)
}

var errTooLarge = errors.New("decompressed body over the limit")

type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// SearchResponse is the body of GET /api/v1/search.
type SearchResponse struct {
	Events []*event.Event `json:"events"`
	Next   string         `json:"next,omitempty"`
	Total  *int64         `json:"total,omitempty"`
	// TotalRelation is "eq" when Total is exact and "gte" when the count
	// stopped at the limit (as Elasticsearch's hits.total.relation).
	TotalRelation string  `json:"total_relation,omitempty"`
	TookMS        float64 `json:"took_ms"`
}

func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	req := search.Request{Query: v.Get("q"), Cursor: v.Get("cursor")}
	switch v.Get("count") {
	case "", "true":
		req.Count = true
	case "exact":
		req.Count, req.ExactCount = true, true
	case "false":
	default:
		writeError(w, http.StatusBadRequest, `count: want "true", "exact" or "false"`)
		return
	}
	var err error
	if req.From, req.To, err = search.ParseRange(v.Get("from"), v.Get("to"), v.Get("since"), s.now()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if l := v.Get("limit"); l != "" {
		if req.Limit, err = strconv.Atoi(l); err != nil || req.Limit < 1 {
			writeError(w, http.StatusBadRequest, "limit: want a positive number")
			return
		}
	}
	switch v.Get("order") {
	case "", "desc":
	case "asc":
		req.Asc = true
	default:
		writeError(w, http.StatusBadRequest, `order: want "asc" or "desc"`)
		return
	}
	res, err := s.Searcher.Search(r.Context(), req)
	if err != nil {
		var se *search.QueryError
		if errors.As(err, &se) {
			pos := se.Position
			writeJSON(w, http.StatusBadRequest, errorBody{Error: se.Error(), Position: &pos})
			return
		}
		if errors.Is(err, search.ErrBadRequest) {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.Logger.Error("search failed", "q", req.Query, "err", err)
		writeError(w, http.StatusInternalServerError, "search failed")
		return
	}
	noteSearch(r.Context(), req.Query, req.From, req.To, len(res.Events), res.Total)
	out := SearchResponse{Events: res.Events, Next: res.Next, TookMS: float64(res.Took.Microseconds()) / 1000}
	if out.Events == nil {
		out.Events = []*event.Event{}
	}
	if res.Total >= 0 {
		out.Total = &res.Total
		out.TotalRelation = "eq"
		if res.TotalAtLeast {
			out.TotalRelation = "gte"
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{"status": "ok", "version": s.Version}
	if s.Health != nil {
		for k, v := range s.Health(r.Context()) {
			body[k] = v
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) handleScan(w http.ResponseWriter, r *http.Request) {
	n, err := s.Scan(r.Context())
	if err != nil {
		s.Logger.Error("archive scan failed", "err", err)
		writeError(w, http.StatusInternalServerError, "archive scan failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"queued": n})
}

func (s *Server) handleDatasets(w http.ResponseWriter, r *http.Request) {
	// A reader is told only of the datasets it may see.
	access := search.AccessFrom(r.Context())
	names := []string{}
	for _, n := range s.Datasets.Names() {
		if access.Sees(n) {
			names = append(names, n)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"datasets": names})
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
