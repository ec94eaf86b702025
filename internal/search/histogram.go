package search

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/mamori-sec/mamori/internal/query"
	"github.com/mamori-sec/mamori/internal/store"
)

// HistogramRequest asks how many events match a query over time.
type HistogramRequest struct {
	Query    string
	From, To time.Time
	// Buckets is the most buckets wanted (default 60, at most 1,000); the
	// width is the smallest round one (1m, 5m, 1h, 1d, ...) that covers the
	// range in that many.
	Buckets int
	// Access limits the datasets counted, as in Request.
	Access *Access
	// VerifyBlocks and VerifyTime bound the work spent checking events one
	// by one for a query the SQL cannot decide alone (a keyword, a field
	// that is not promoted): at most this many candidate blocks and about
	// this long. Past either bound the other candidate blocks' counts are
	// estimated. By default a rare term's candidates (up to 128 blocks,
	// which a 30-day range's 1 % false positives alone can reach) are all
	// checked within 350 ms, so its few hits are counted, not estimated;
	// more candidates are sampled, 32 blocks within 150 ms.
	VerifyBlocks int
	VerifyTime   time.Duration
}

// Bucket is the count of one time bucket, [T, T + width).
type Bucket struct {
	T     time.Time `json:"t"`
	Count int64     `json:"count"`
}

// Histogram is the count of matching events per bucket.
type Histogram struct {
	Buckets  []Bucket
	Width    time.Duration
	From, To time.Time
	// Exact says every count is exact. Otherwise the query needed each
	// candidate event checked and there were too many candidate blocks to
	// check them all in time: the blocks that were checked count exactly,
	// and the others are estimated. With Sampled they are scaled by the
	// share of the checked blocks' candidates that matched; with
	// UpperBound (nothing could be checked) they count every candidate,
	// which is at least the true number.
	Exact      bool
	Sampled    bool
	UpperBound bool
	// CandidateBlocks are the blocks the token filters could not rule out
	// and VerifiedBlocks those checked event by event (verified queries).
	CandidateBlocks int
	VerifiedBlocks  int
	Took            time.Duration
}

const (
	defaultBuckets       = 60
	maxBuckets           = 1000
	defaultVerifyBlocks  = 32
	defaultVerifyTime    = 150 * time.Millisecond
	defaultVerifyAll     = 128
	defaultVerifyAllTime = 350 * time.Millisecond
	// inListBlocks is the most candidate blocks named in an IN list; past
	// it every block of the range is counted and the others dropped.
	inListBlocks = 2000
	// maxHistogramSpan keeps the arithmetic on the range within Duration
	// (292 years).
	maxHistogramSpan = 200 * 365 * 24 * time.Hour
)

// bucketWidths are the round widths a histogram picks from.
var bucketWidths = []time.Duration{
	time.Second, 2 * time.Second, 5 * time.Second, 10 * time.Second, 15 * time.Second, 30 * time.Second,
	time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 30 * time.Minute,
	time.Hour, 2 * time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour,
	24 * time.Hour, 2 * 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 30 * 24 * time.Hour,
	90 * 24 * time.Hour, 365 * 24 * time.Hour,
}

// BucketWidth returns the smallest round width that covers span in at
// most n buckets.
func BucketWidth(span time.Duration, n int) time.Duration {
	if n <= 0 {
		n = defaultBuckets
	}
	// The width each bucket needs, rounded up; dividing rather than
	// multiplying the widths by n cannot overflow.
	per := span / time.Duration(n)
	if span%time.Duration(n) != 0 {
		per++
	}
	for _, w := range bucketWidths {
		if per <= w {
			return w
		}
	}
	year := bucketWidths[len(bucketWidths)-1]
	years := per / year
	if per%year != 0 {
		years++
	}
	return year * min(years, math.MaxInt64/year)
}

// Histogram counts the events matching the query per time bucket. A query
// on promoted columns is counted by the SQL alone; one that needs events
// checked (a keyword) is counted over the blocks its token filters do not
// rule out, checking them one by one within the request's bounds.
func (s *Searcher) Histogram(ctx context.Context, r HistogramRequest) (Histogram, error) {
	start := time.Now()
	n, err := Parse(r.Query)
	if err != nil {
		return Histogram{}, err
	}
	n = AccessFrom(ctx).Restrict(r.Access.Restrict(n))
	where, args, exact, err := query.CompileFilter(n)
	if err != nil {
		return Histogram{}, &QueryError{Err: err}
	}
	h := Histogram{From: r.From, To: r.To, Exact: true}
	if h.From.IsZero() || h.To.IsZero() {
		lo, hi, err := s.Store.TimeBounds(ctx)
		if err != nil {
			return Histogram{}, err
		}
		if h.From.IsZero() {
			h.From = lo
		}
		if h.To.IsZero() {
			h.To = hi.Add(time.Microsecond)
		}
		if lo.IsZero() || !h.To.After(h.From) {
			// No events (or none in an open range): one empty hour.
			if h.From.IsZero() {
				h.From = h.To.Add(-time.Hour)
			}
			if !h.To.After(h.From) {
				h.To = h.From.Add(time.Hour)
			}
		}
	}
	if h.To.Sub(h.From) > maxHistogramSpan {
		return Histogram{}, fmt.Errorf("%w: a histogram spans at most 200 years", ErrBadRequest)
	}
	nb := r.Buckets
	if nb <= 0 {
		nb = defaultBuckets
	}
	nb = min(nb, maxBuckets)
	h.Width = BucketWidth(h.To.Sub(h.From), nb)
	origin := h.From.UTC().Truncate(h.Width)
	count := int((h.To.Sub(origin) + h.Width - 1) / h.Width)
	h.Buckets = make([]Bucket, count)
	for i := range h.Buckets {
		h.Buckets[i].T = origin.Add(time.Duration(i) * h.Width)
	}
	rq := store.RowQuery{Where: where, Args: args, From: h.From, To: h.To}
	add := func(b int64, c int64) {
		if b >= 0 && b < int64(len(h.Buckets)) {
			h.Buckets[b].Count += c
		}
	}
	if exact {
		if rq, err = s.narrow(ctx, n, rq); err != nil {
			return Histogram{}, err
		}
		counts, err := s.Store.Buckets(ctx, rq, origin, h.Width)
		if err != nil {
			return Histogram{}, err
		}
		for _, c := range counts {
			add(c.Bucket, c.Count)
		}
	} else if err := s.verifiedHistogram(ctx, n, rq, r, origin, &h, add); err != nil {
		return Histogram{}, err
	}
	h.Took = time.Since(start)
	if s.Metrics != nil {
		s.Metrics.QueryLatency.WithLabelValues("histogram").Observe(h.Took.Seconds())
	}
	return h, nil
}

// verifiedHistogram counts a query that needs its candidates checked. The
// candidate blocks are checked event by event when they are few; when
// they are many, a sample of them spread over the range is, and the
// others are estimated from the SQL filter's count of their candidate
// rows, scaled by the share that matched in the sample.
func (s *Searcher) verifiedHistogram(ctx context.Context, n query.Node, rq store.RowQuery, r HistogramRequest,
	origin time.Time, h *Histogram, add func(bucket, count int64)) error {
	cands, err := s.candidateBlocks(ctx, n, rq, false)
	if err != nil {
		return err
	}
	h.CandidateBlocks = len(cands)
	if len(cands) == 0 {
		return nil
	}
	few := r.VerifyBlocks <= 0 && len(cands) <= defaultVerifyAll
	maxBlocks, budget := r.VerifyBlocks, r.VerifyTime
	if maxBlocks <= 0 {
		maxBlocks = defaultVerifyBlocks
		if few {
			maxBlocks = defaultVerifyAll
		}
	}
	if budget <= 0 {
		budget = defaultVerifyTime
		if few {
			budget = defaultVerifyAllTime
		}
	}
	// The sample: every candidate when they are few enough, otherwise
	// blocks evenly spaced over the candidates (which are in time order),
	// so that the share that matches is not the newest hour's alone.
	sample := make([]int, 0, min(len(cands), maxBlocks))
	if len(cands) <= maxBlocks {
		for i := range cands {
			sample = append(sample, i)
		}
	} else {
		for k := range maxBlocks {
			sample = append(sample, k*len(cands)/maxBlocks)
		}
	}
	sc := s.newBlockScan(n, rq)
	verified := map[int64]bool{}
	deadline := time.Now().Add(budget)
	var hits int64
	for _, i := range sample {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(verified) > 0 && time.Now().After(deadline) {
			break
		}
		blk := cands[i].Blk
		found, err := s.scanBlock(ctx, sc, cands[i])
		if err != nil {
			return err
		}
		for _, hit := range found {
			add(int64(hit.pos.TS.Sub(origin)/h.Width), 1)
		}
		hits += int64(len(found))
		verified[blk] = true
	}
	h.VerifiedBlocks = len(verified)
	if len(verified) == len(cands) {
		return nil
	}
	// Estimate the rest: the SQL filter's candidate rows per block and
	// bucket, for the checked blocks too (their rows give the share).
	h.Exact = false
	q := rq
	if len(cands) <= inListBlocks {
		q.Blocks = make([]int64, 0, len(cands))
		for _, b := range cands {
			q.Blocks = append(q.Blocks, b.Blk)
		}
	}
	isCand := make(map[int64]bool, len(cands))
	for _, b := range cands {
		isCand[b.Blk] = true
	}
	rows, err := s.Store.BlockBuckets(ctx, q, origin, h.Width)
	if err != nil {
		return err
	}
	var verifiedRows int64
	for _, c := range rows {
		if verified[c.Blk] {
			verifiedRows += c.Count
		}
	}
	share := 1.0
	if verifiedRows > 0 {
		share = float64(hits) / float64(verifiedRows)
		h.Sampled = true
	} else {
		h.UpperBound = true
	}
	est := make(map[int64]float64)
	for _, c := range rows {
		if isCand[c.Blk] && !verified[c.Blk] {
			est[c.Bucket] += float64(c.Count) * share
		}
	}
	for b, v := range est {
		add(b, int64(math.Round(v)))
	}
	return nil
}

// String describes a histogram briefly (for logs and test failures).
func (h Histogram) String() string {
	var total int64
	for _, b := range h.Buckets {
		total += b.Count
	}
	return fmt.Sprintf("%d buckets of %v from %s, %d events (exact %v, %d/%d blocks verified)",
		len(h.Buckets), h.Width, h.From.Format(time.RFC3339), total, h.Exact, h.VerifiedBlocks, h.CandidateBlocks)
}
