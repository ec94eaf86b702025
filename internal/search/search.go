// Package search answers a search request. A query is compiled twice: to
// SQL over the store's promoted columns, which is exact when the query uses
// nothing else, and otherwise to an over-approximation; in that case the
// candidate events are re-derived from their blocks and checked exactly
// with query.Match, after two cheap filters that never drop a match: the
// blocks' token Bloom filters and a scan of each record's raw text.
package search

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/pipeline"
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

// Result is a page of events.
type Result struct {
	Events []*event.Event
	// Next is the cursor for the following page, "" when this is the last.
	Next string
	// Total is the number of matching events, or -1 when not counted (not
	// asked for, or too costly: see CountLimit).
	Total int64
	Took  time.Duration
}

// Searcher runs searches on a store.
type Searcher struct {
	Store    *store.Store
	Datasets *dataset.Registry
	Metrics  *metrics.Metrics
	// CountLimit bounds the candidate events a query that needs re-derived
	// events may examine to give an exact total (default 200,000).
	CountLimit int64

	blocks *blockCache
	bloom  blooms
}

// New returns a searcher over st, re-deriving events with reg.
func New(st *store.Store, reg *dataset.Registry, m *metrics.Metrics) *Searcher {
	return &Searcher{Store: st, Datasets: reg, Metrics: m, blocks: newBlockCache(st, 256<<20)}
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

const (
	defaultLimit = 100
	maxLimit     = 10000
	// scanPage is how many candidate rows are fetched at a time when rows
	// must be checked one by one.
	scanPage = 4096
)

// Search runs one page.
func (s *Searcher) Search(ctx context.Context, r Request) (Result, error) {
	start := time.Now()
	n, err := Parse(r.Query)
	if err != nil {
		return Result{}, err
	}
	where, args, exact, err := query.CompileFilter(n)
	if err != nil {
		return Result{}, &QueryError{Err: err}
	}
	limit := r.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	rq := store.RowQuery{Where: where, Args: args, From: r.From, To: r.To, Asc: r.Asc}
	if r.Cursor != "" {
		p, err := store.DecodeCursor(r.Cursor)
		if err != nil {
			return Result{}, fmt.Errorf("%w: %v", ErrBadRequest, err)
		}
		rq.After = &p
	}
	var res Result
	kind := "exact"
	if exact {
		res, err = s.exact(ctx, rq, limit, r.Count)
	} else {
		kind = "verified"
		res, err = s.verified(ctx, n, rq, limit, r.Count)
	}
	if err != nil {
		return Result{}, err
	}
	res.Took = time.Since(start)
	if s.Metrics != nil {
		s.Metrics.QueryLatency.WithLabelValues(kind).Observe(res.Took.Seconds())
	}
	return res, nil
}

// exact answers a query that the SQL decides alone.
func (s *Searcher) exact(ctx context.Context, rq store.RowQuery, limit int, count bool) (Result, error) {
	res := Result{Total: -1}
	rq.Limit = limit + 1
	rows, err := s.Store.Rows(ctx, rq)
	if err != nil {
		return res, err
	}
	if len(rows) > limit {
		rows = rows[:limit]
		res.Next = store.EncodeCursor(rows[limit-1])
	}
	for _, p := range rows {
		e, err := s.event(ctx, p)
		if err != nil {
			return res, err
		}
		res.Events = append(res.Events, e)
	}
	if count {
		if rq.After == nil && res.Next == "" {
			res.Total = int64(len(res.Events))
		} else if res.Total, err = s.Store.Count(ctx, rq); err != nil {
			return res, err
		}
	}
	return res, nil
}

// verified answers a query that needs each candidate checked on its
// re-derived event.
func (s *Searcher) verified(ctx context.Context, n query.Node, rq store.RowQuery, limit int, count bool) (Result, error) {
	res := Result{Total: -1}
	terms := query.Keywords(n)
	cands, err := s.candidateBlocks(ctx, n, terms, rq)
	if err != nil {
		return res, err
	}
	if len(cands) == 0 {
		if count {
			res.Total = 0
		}
		return res, nil
	}
	rq.Blocks = cands
	check := newRecordCheck(n)

	var matched []store.Position
	var events []*event.Event
	page := rq
	page.Limit = scanPage
	exhausted := false
	for len(matched) <= limit {
		rows, err := s.Store.Rows(ctx, page)
		if err != nil {
			return res, err
		}
		for _, p := range rows {
			e, ok, err := s.verify(ctx, p, check, n)
			if err != nil {
				return res, err
			}
			if ok {
				matched = append(matched, p)
				events = append(events, e)
				if len(matched) > limit {
					break
				}
			}
		}
		if len(rows) < scanPage {
			exhausted = true
			break
		}
		last := rows[len(rows)-1]
		page.After = &last
	}
	if len(matched) > limit {
		matched, events = matched[:limit], events[:limit]
		res.Next = store.EncodeCursor(matched[limit-1])
	}
	res.Events = events
	if count {
		switch {
		case rq.After == nil && exhausted && res.Next == "":
			res.Total = int64(len(events))
		default:
			res.Total, err = s.countVerified(ctx, n, check, rq)
			if err != nil {
				return res, err
			}
		}
	}
	return res, nil
}

// countVerified counts every match when the candidates are few enough.
func (s *Searcher) countVerified(ctx context.Context, n query.Node, check recordCheck, rq store.RowQuery) (int64, error) {
	rq.After = nil
	cands, err := s.Store.Count(ctx, rq)
	if err != nil {
		return 0, err
	}
	limit := s.CountLimit
	if limit <= 0 {
		limit = 200000
	}
	if cands > limit {
		return -1, nil
	}
	rows, err := s.Store.Rows(ctx, rq)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, p := range rows {
		_, ok, err := s.verify(ctx, p, check, n)
		if err != nil {
			return 0, err
		}
		if ok {
			total++
		}
	}
	return total, nil
}

// verify re-derives the event at p, after the raw-text check, and matches
// it exactly.
func (s *Searcher) verify(ctx context.Context, p store.Position, check recordCheck, n query.Node) (*event.Event, bool, error) {
	b, err := s.blocks.get(ctx, p.Blk)
	if err != nil {
		return nil, false, err
	}
	if int(p.Off) >= len(b.Records) || !check.may(b.Records[p.Off].Data) {
		return nil, false, nil
	}
	evs := pipeline.Derive(s.Datasets, b, int(p.Off))
	if int(p.Sub) >= len(evs) {
		return nil, false, nil
	}
	e := evs[p.Sub]
	return e, query.Match(n, e), nil
}

// event re-derives the event at p.
func (s *Searcher) event(ctx context.Context, p store.Position) (*event.Event, error) {
	b, err := s.blocks.get(ctx, p.Blk)
	if err != nil {
		return nil, err
	}
	evs := pipeline.Derive(s.Datasets, b, int(p.Off))
	if int(p.Sub) >= len(evs) {
		return nil, fmt.Errorf("event %d/%d/%d: the block's record no longer yields it (was the dataset's parser changed?)", p.Blk, p.Off, p.Sub)
	}
	return evs[p.Sub], nil
}

// Parse parses a query, reporting syntax errors as *QueryError.
func Parse(q string) (query.Node, error) {
	n, err := query.Parse(q)
	if err != nil {
		var se *query.SyntaxError
		if errors.As(err, &se) {
			return nil, &QueryError{Position: se.Pos, Err: err}
		}
		return nil, &QueryError{Err: err}
	}
	return n, nil
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
