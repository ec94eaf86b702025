// Package search answers a search request: it compiles the query language
// to SQL and runs it on the store over a time range. The API and the CLI's
// local mode share it.
package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/query"
	"github.com/mamori-sec/mamori/internal/store"
)

// Request is one search page.
type Request struct {
	Query    string
	From, To time.Time
	Limit    int
	Cursor   string
	Asc      bool
	Count    bool
}

// Searcher runs searches on a store.
type Searcher struct {
	Store   *store.Store
	Metrics *metrics.Metrics
}

// QueryError is a query that does not parse, with the byte position of the
// problem.
type QueryError struct {
	Position int
	Err      error
}

func (e *QueryError) Error() string { return e.Err.Error() }
func (e *QueryError) Unwrap() error { return e.Err }

// ErrBadRequest marks request errors other than query syntax (a bad cursor).
var ErrBadRequest = errors.New("bad request")

// Search runs one page.
func (s *Searcher) Search(ctx context.Context, r Request) (store.Result, error) {
	start := time.Now()
	where, args, err := Compile(r.Query)
	if err != nil {
		return store.Result{}, err
	}
	res, err := s.Store.Search(ctx, store.Search{Where: where, Args: args, From: r.From, To: r.To,
		Limit: r.Limit, Asc: r.Asc, Cursor: r.Cursor, Count: r.Count})
	if errors.Is(err, store.ErrBadCursor) {
		return res, fmt.Errorf("%w: %v", ErrBadRequest, err)
	}
	if s.Metrics != nil {
		kind := "filter"
		if strings.TrimSpace(r.Query) == "" {
			kind = "all"
		}
		s.Metrics.QueryLatency.WithLabelValues(kind).Observe(time.Since(start).Seconds())
	}
	return res, err
}

// Compile turns a query into a WHERE fragment and its arguments.
func Compile(q string) (string, []any, error) {
	n, err := query.Parse(q)
	if err != nil {
		var se *query.SyntaxError
		if errors.As(err, &se) {
			return "", nil, &QueryError{Position: se.Pos, Err: err}
		}
		return "", nil, &QueryError{Err: err}
	}
	where, args, err := query.Compile(n)
	if err != nil {
		return "", nil, &QueryError{Err: err}
	}
	return where, args, nil
}

// ParseRange reads a time range: from/to as RFC 3339 (or a date), or since
// as a duration back from now ("15m", "24h", "7d"). An empty range is all
// time.
func ParseRange(from, to, since string, now time.Time) (time.Time, time.Time, error) {
	var f, t time.Time
	if since != "" {
		if from != "" {
			return f, t, fmt.Errorf("since and from: give one, not both")
		}
		d, err := config.ParseDuration(since)
		if err != nil {
			return f, t, fmt.Errorf("since: %w", err)
		}
		f = now.Add(-time.Duration(d))
	}
	var err error
	if from != "" {
		if f, err = ParseTime(from, now); err != nil {
			return f, t, fmt.Errorf("from: %w", err)
		}
	}
	if to != "" {
		if t, err = ParseTime(to, now); err != nil {
			return f, t, fmt.Errorf("to: %w", err)
		}
	}
	if !f.IsZero() && !t.IsZero() && !t.After(f) {
		return f, t, fmt.Errorf("to (%s) must be after from (%s)", t.Format(time.RFC3339), f.Format(time.RFC3339))
	}
	return f, t, nil
}

// ParseTime reads RFC 3339, a date (2006-01-02), "now", or "now-15m".
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "now" {
		return now, nil
	}
	if rest, ok := strings.CutPrefix(s, "now-"); ok {
		d, err := config.ParseDuration(rest)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(-time.Duration(d)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time: want RFC 3339 (2026-11-20T10:00:00Z), a date, or now-15m", s)
}
