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
	"runtime"
	"sort"
	"strings"
	"sync"
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
	// ExactCount counts every match however many there are; otherwise a
	// count stops past the searcher's CountLimit and says so.
	ExactCount bool
	// Access limits the datasets the reader sees; nil sees all. Access
	// put in the context (WithAccess) applies as well.
	Access *Access
}

// Result is a page of events.
type Result struct {
	Events []*event.Event
	// Next is the cursor for the following page, "" when this is the last.
	Next string
	// Total is the number of matching events, or -1 when not counted (not
	// asked for, or too costly: see CountBlocks).
	Total int64
	// TotalAtLeast says that Total is a lower bound: the count stopped at
	// the searcher's CountLimit.
	TotalAtLeast bool
	Took         time.Duration
}

// Searcher runs searches on a store.
type Searcher struct {
	Store    *store.Store
	Datasets *dataset.Registry
	Metrics  *metrics.Metrics
	// CountBlocks bounds how many candidate blocks a query that needs
	// re-derived events visits to give an exact total (default 64); past
	// it the total is left out.
	CountBlocks int
	// CountLimit is where a count that is not asked to be exact stops
	// (default 10,000), as Elasticsearch's track_total_hits does: past it
	// the total is reported as "at least".
	CountLimit int64
	// Enrich, when set, adds read-time context (DHCP attribution, GeoIP)
	// to each page after its events are matched: enriched fields are
	// shown, not searched.
	Enrich func(ctx context.Context, evs []*event.Event)

	blocks *blockCache
	bloom  blooms
}

// New returns a searcher over st, re-deriving events with reg.
func New(st *store.Store, reg *dataset.Registry, m *metrics.Metrics) *Searcher {
	return &Searcher{Store: st, Datasets: reg, Metrics: m, blocks: newBlockCache(st, 128<<20)}
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
)

// Search runs one page.
func (s *Searcher) Search(ctx context.Context, r Request) (Result, error) {
	start := time.Now()
	n, err := Parse(r.Query)
	if err != nil {
		return Result{}, err
	}
	// Both the request's access and the context's apply.
	n = AccessFrom(ctx).Restrict(r.Access.Restrict(n))
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
		if rq, err = s.narrow(ctx, n, rq); err != nil {
			return Result{}, err
		}
		res, err = s.exact(ctx, rq, limit, r.Count, r.ExactCount)
	} else {
		kind = "verified"
		res, err = s.verified(ctx, n, rq, limit, r.Count)
	}
	if err != nil {
		return Result{}, err
	}
	if s.Enrich != nil && len(res.Events) > 0 {
		s.Enrich(ctx, res.Events)
	}
	res.Took = time.Since(start)
	if s.Metrics != nil {
		s.Metrics.QueryLatency.WithLabelValues(kind).Observe(res.Took.Seconds())
	}
	return res, nil
}

// narrowBlocks is the most candidate blocks an exact query is restricted
// to: past it, scanning the columns is as cheap as testing block ids.
const narrowBlocks = 512

// narrow restricts an exact query to the blocks whose filters may hold its
// plain values (a rare source.ip, host or user), so that the SQL reads only
// their row groups. It never changes the answer: a block is left out only
// when its filter shows it holds no match.
func (s *Searcher) narrow(ctx context.Context, n query.Node, rq store.RowQuery) (store.RowQuery, error) {
	if len(query.IndexTerms(n, true)) == 0 {
		return rq, nil
	}
	cands, err := s.candidateBlocks(ctx, n, rq, true)
	if err != nil || len(cands) > narrowBlocks {
		return rq, err
	}
	rq.Blocks = make([]int64, 0, len(cands))
	for _, b := range cands {
		rq.Blocks = append(rq.Blocks, b.Blk)
	}
	return rq, nil
}

// exact answers a query that the SQL decides alone.
func (s *Searcher) exact(ctx context.Context, rq store.RowQuery, limit int, count, exact bool) (Result, error) {
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
		} else if exact {
			if res.Total, err = s.Store.Count(ctx, rq); err != nil {
				return res, err
			}
		} else {
			var complete bool
			if res.Total, complete, err = s.Store.CountUpTo(ctx, rq, s.countLimit()); err != nil {
				return res, err
			}
			res.TotalAtLeast = !complete
		}
	}
	return res, nil
}

// verified answers a query that needs each candidate checked on its
// re-derived event. Candidate blocks are visited in the query's order of
// their time bounds; in each, the records that pass the raw-text check are
// filtered by the SQL and then matched exactly. The visit stops once the
// page is full and no remaining block can hold an event that sorts before
// the page's last one — unless a total is wanted and the candidates are few
// enough to count them all (CountBlocks).
func (s *Searcher) verified(ctx context.Context, n query.Node, rq store.RowQuery, limit int, count bool) (Result, error) {
	res := Result{Total: -1}
	cands, err := s.candidateBlocks(ctx, n, rq, false)
	if err != nil {
		return res, err
	}
	countAll := count && len(cands) <= s.countBlocks()
	sc := s.newBlockScan(n, rq)
	var page []hit
	var total int64
	complete := true
	for _, b := range cands {
		if !countAll && len(page) > limit && !mayBeat(b, page[limit].pos, rq.Asc) {
			complete = false
			break
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
		hits, err := s.scanBlock(ctx, sc, b)
		if err != nil {
			return res, err
		}
		total += int64(len(hits))
		page = mergePage(page, hits, limit+1, rq.Asc)
	}
	if len(page) > limit {
		page = page[:limit]
		res.Next = store.EncodeCursor(page[limit-1].pos)
	}
	for _, h := range page {
		res.Events = append(res.Events, h.ev)
	}
	// After a cursor the visit saw only what follows it: no total then.
	if count && (countAll || complete) && rq.After == nil {
		res.Total = total
	}
	return res, nil
}

// hit is a verified match.
type hit struct {
	pos store.Position
	ev  *event.Event
}

// blockScan is how one search checks its candidate blocks.
type blockScan struct {
	n     query.Node
	check recordCheck
	rq    store.RowQuery
	// light: candidates are matched on their events as parsed, and only
	// the hits are completed (event.id, related.* and the rest): the query
	// names none of those fields (see parsedEnough).
	light bool
	// sqlFree: the query's SQL filter holds for every row (a bare
	// keyword), so a complete block's candidates are re-derived without
	// asking the database for their positions.
	sqlFree bool
}

func (s *Searcher) newBlockScan(n query.Node, rq store.RowQuery) blockScan {
	return blockScan{n: n, check: newRecordCheck(n, s.Datasets.Verbatim), rq: rq,
		light: parsedEnough(n), sqlFree: query.FilterAlwaysTrue(n)}
}

// candidate is a record to check: one event of it (sub ≥ 0, at pos, from
// the events table) or all of them (sub < 0).
type candidate struct {
	pos store.Position
	sub int32
}

// scanBlock returns the matches in one block, in the query's order.
func (s *Searcher) scanBlock(ctx context.Context, sc blockScan, info store.BlockInfo) ([]hit, error) {
	b, err := s.blocks.get(ctx, info.Blk)
	if err != nil {
		return nil, err
	}
	var offs []int32
	for i, r := range b.Records {
		if sc.check.may(r.Data) {
			offs = append(offs, int32(i))
		}
	}
	if len(offs) == 0 {
		return nil, nil
	}
	var cands []candidate
	if sc.sqlFree && info.Complete {
		// Every event of the block is stored and the SQL would select
		// them all: the re-derived events give their own positions.
		for _, off := range offs {
			cands = append(cands, candidate{pos: store.Position{Blk: info.Blk, Off: off}, sub: -1})
		}
	} else {
		q := sc.rq
		q.Blocks = []int64{info.Blk}
		if len(offs) < len(b.Records) {
			q.Offsets = offs
		}
		rows, err := s.Store.Rows(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, p := range rows {
			cands = append(cands, candidate{pos: p, sub: p.Sub})
		}
	}
	// Re-deriving dominates; candidates are split over the cores in
	// contiguous chunks.
	workers := min(runtime.GOMAXPROCS(0), (len(cands)+255)/256)
	parts := make([][]hit, max(workers, 1))
	var wg sync.WaitGroup
	for w := range parts {
		lo, hi := w*len(cands)/len(parts), (w+1)*len(cands)/len(parts)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, c := range cands[lo:hi] {
				parts[w] = sc.match(s.Datasets, b, c, parts[w])
			}
		}()
	}
	wg.Wait()
	var out []hit
	for _, part := range parts {
		out = append(out, part...)
	}
	if sc.sqlFree && info.Complete {
		sort.Slice(out, func(i, j int) bool { return before(out[i].pos, out[j].pos, sc.rq.Asc) })
	}
	return out, nil
}

// match re-derives a candidate's record and appends its matching events.
func (sc blockScan) match(reg *dataset.Registry, b *store.BlockData, c candidate, out []hit) []hit {
	off := int(c.pos.Off)
	var evs []*event.Event
	if sc.light {
		evs = pipeline.ParseOnly(reg, b, off)
	} else {
		evs = pipeline.Derive(reg, b, off)
	}
	for sub, e := range evs {
		if c.sub >= 0 && int32(sub) != c.sub {
			continue
		}
		if !query.Match(sc.n, e) {
			continue
		}
		if sc.light {
			pipeline.Complete(b, off, sub, e)
		}
		pos := c.pos
		if c.sub < 0 {
			// As the store keeps it: microseconds.
			pos.TS, pos.Sub = e.Time().UTC().Truncate(time.Microsecond), int32(sub)
			if !sc.inRange(pos) {
				continue
			}
		}
		out = append(out, hit{pos: pos, ev: e})
	}
	return out
}

// inRange applies the query's time range and cursor, which the SQL applies
// to the rows it returns.
func (sc blockScan) inRange(p store.Position) bool {
	if !sc.rq.From.IsZero() && p.TS.Before(sc.rq.From) || !sc.rq.To.IsZero() && !p.TS.Before(sc.rq.To) {
		return false
	}
	return sc.rq.After == nil || before(*sc.rq.After, p, sc.rq.Asc)
}

// mayBeat reports whether block b can hold an event that sorts before pos.
func mayBeat(b store.BlockInfo, pos store.Position, asc bool) bool {
	if asc {
		return !b.MinTS.After(pos.TS)
	}
	return !b.MaxTS.Before(pos.TS)
}

// before orders positions as results are ordered.
func before(a, b store.Position, asc bool) bool {
	if !a.TS.Equal(b.TS) {
		return a.TS.Before(b.TS) == asc
	}
	if a.Blk != b.Blk {
		return (a.Blk < b.Blk) == asc
	}
	if a.Off != b.Off {
		return (a.Off < b.Off) == asc
	}
	return a.Sub != b.Sub && (a.Sub < b.Sub) == asc
}

// mergePage merges sorted hits into the sorted page, keeping the first max.
func mergePage(page, hits []hit, max int, asc bool) []hit {
	if len(hits) == 0 {
		return page
	}
	out := make([]hit, 0, min(len(page)+len(hits), max))
	i, j := 0, 0
	for len(out) < max && (i < len(page) || j < len(hits)) {
		if j >= len(hits) || i < len(page) && before(page[i].pos, hits[j].pos, asc) {
			out = append(out, page[i])
			i++
		} else {
			out = append(out, hits[j])
			j++
		}
	}
	return out
}

func (s *Searcher) countLimit() int64 {
	if s.CountLimit > 0 {
		return s.CountLimit
	}
	return 10000
}

func (s *Searcher) countBlocks() int {
	if s.CountBlocks > 0 {
		return s.CountBlocks
	}
	return 64
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

// parsedEnough reports whether a query can be matched on events as their
// parser made them, before the pipeline completes them: it has no keyword
// (which searches event.original and related.*) and names no field the
// completion sets, nor an object holding one.
func parsedEnough(n query.Node) bool {
	fields, keyword := query.Fields(n)
	if keyword {
		return false
	}
	for _, f := range fields {
		if strings.ContainsAny(f, "*?") || f == "related" || strings.HasPrefix(f, "related.") {
			return false
		}
		for _, c := range pipeline.CompletedFields {
			if f == c || strings.HasPrefix(c, f+".") {
				return false
			}
		}
	}
	return true
}
