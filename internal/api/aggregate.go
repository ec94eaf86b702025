package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/mamori-sec/mamori/internal/search"
)

// HistogramResponse is the body of GET /api/v1/histogram.
type HistogramResponse struct {
	Buckets []search.Bucket `json:"buckets"`
	// Interval is the buckets' width ("1m", "5m", "1h", "1d"), IntervalMS
	// the same in milliseconds.
	Interval   string    `json:"interval"`
	IntervalMS int64     `json:"interval_ms"`
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	// Exact is false when the counts are estimated (see search.Histogram):
	// Sampled when scaled from checked blocks, UpperBound when they count
	// every candidate.
	Exact           bool    `json:"exact"`
	Sampled         bool    `json:"sampled,omitempty"`
	UpperBound      bool    `json:"upper_bound,omitempty"`
	CandidateBlocks int     `json:"candidate_blocks,omitempty"`
	VerifiedBlocks  int     `json:"verified_blocks,omitempty"`
	TookMS          float64 `json:"took_ms"`
}

// FacetsResponse is the body of GET /api/v1/facets.
type FacetsResponse struct {
	Facets []search.Facet `json:"facets"`
	// Sampled: some facet is counted on a sample, the newest SampleSize
	// matches or a random SamplePercent of the rows (see search.Facets).
	Sampled       bool    `json:"sampled"`
	SampleSize    int     `json:"sample_size,omitempty"`
	SamplePercent float64 `json:"sample_percent,omitempty"`
	TookMS        float64 `json:"took_ms"`
}

func (s *Server) handleHistogram(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	req := search.HistogramRequest{Query: v.Get("q")}
	var err error
	if req.From, req.To, err = search.ParseRange(v.Get("from"), v.Get("to"), v.Get("since"), s.now()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// An open end is now: the histogram of "the last hour" ends now, not
	// at the newest stored event.
	if req.To.IsZero() && !req.From.IsZero() {
		req.To = s.now()
		if !req.To.After(req.From) {
			writeError(w, http.StatusBadRequest, "from must be before now")
			return
		}
	}
	if req.Buckets, err = intParam(v.Get("buckets"), 0, 1, 1000); err != nil {
		writeError(w, http.StatusBadRequest, "buckets: "+err.Error())
		return
	}
	h, err := s.Searcher.Histogram(r.Context(), req)
	if err != nil {
		s.readError(w, "histogram", req.Query, err)
		return
	}
	// The audit log records the count a histogram shows when it is exact.
	total := int64(-1)
	if h.Exact {
		total = 0
		for _, b := range h.Buckets {
			total += b.Count
		}
	}
	noteSearch(r.Context(), req.Query, h.From, h.To, 0, total)
	writeJSON(w, http.StatusOK, HistogramResponse{
		Buckets: h.Buckets, Interval: formatWidth(h.Width), IntervalMS: h.Width.Milliseconds(),
		From: h.From, To: h.To, Exact: h.Exact, Sampled: h.Sampled, UpperBound: h.UpperBound,
		CandidateBlocks: h.CandidateBlocks, VerifiedBlocks: h.VerifiedBlocks, TookMS: millis(h.Took),
	})
}

func (s *Server) handleFacets(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	req := search.FacetsRequest{Query: v.Get("q"), Fields: splitList(v.Get("fields"))}
	var err error
	if req.From, req.To, err = search.ParseRange(v.Get("from"), v.Get("to"), v.Get("since"), s.now()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(req.Fields) > 20 {
		writeError(w, http.StatusBadRequest, "fields: at most 20")
		return
	}
	if req.Size, err = intParam(v.Get("size"), 0, 1, 100); err != nil {
		writeError(w, http.StatusBadRequest, "size: "+err.Error())
		return
	}
	if req.Sample, err = intParam(v.Get("sample"), 0, 1, 10000); err != nil {
		writeError(w, http.StatusBadRequest, "sample: "+err.Error())
		return
	}
	f, err := s.Searcher.Facets(r.Context(), req)
	if err != nil {
		s.readError(w, "facets", req.Query, err)
		return
	}
	noteSearch(r.Context(), req.Query, req.From, req.To, 0, -1)
	writeJSON(w, http.StatusOK, FacetsResponse{Facets: f.Facets, Sampled: f.Sampled, SampleSize: f.SampleSize,
		SamplePercent: f.SamplePercent, TookMS: millis(f.Took)})
}

// readError answers a failed read: a query that does not parse is a 400
// with the position of the problem, anything else a 500.
func (s *Server) readError(w http.ResponseWriter, what, q string, err error) {
	var qe *search.QueryError
	switch {
	case errors.As(err, &qe):
		pos := qe.Position
		writeJSON(w, http.StatusBadRequest, errorBody{Error: qe.Error(), Position: &pos})
	case errors.Is(err, search.ErrBadRequest):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.Logger.Error(what+" failed", "q", q, "err", err)
		writeError(w, http.StatusInternalServerError, what+" failed")
	}
}

// formatWidth writes a bucket width the way the time picker does: 30s,
// 5m, 1h, 1d, 7d.
func formatWidth(d time.Duration) string {
	day := 24 * time.Hour
	switch {
	case d >= day && d%day == 0:
		return fmt.Sprintf("%dd", d/day)
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%ds", d/time.Second)
	}
	return d.String()
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
