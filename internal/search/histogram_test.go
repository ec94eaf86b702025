package search

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/search/searchtest"
)

func TestBucketWidth(t *testing.T) {
	for _, c := range []struct {
		span time.Duration
		n    int
		want time.Duration
	}{
		{15 * time.Minute, 60, 15 * time.Second},
		{time.Hour, 60, time.Minute},
		{time.Hour, 12, 5 * time.Minute},
		{24 * time.Hour, 60, 30 * time.Minute},
		{7 * 24 * time.Hour, 60, 3 * time.Hour},
		{30 * 24 * time.Hour, 60, 12 * time.Hour},
		{30 * 24 * time.Hour, 30, 24 * time.Hour},
		{time.Second / 2, 60, time.Second},
		{100 * 365 * 24 * time.Hour, 10, 10 * 365 * 24 * time.Hour},
		{time.Duration(math.MaxInt64), 1000, 365 * 24 * time.Hour},
		{time.Duration(math.MaxInt64), 1, 292 * 365 * 24 * time.Hour},
	} {
		if got := BucketWidth(c.span, c.n); got != c.want {
			t.Errorf("BucketWidth(%v, %d) = %v, want %v", c.span, c.n, got, c.want)
		}
	}
}

// searchCount is the search's exact count of q in [from, to).
func searchCount(t *testing.T, ctx context.Context, s *Searcher, q string, from, to time.Time) int64 {
	t.Helper()
	res, err := s.Search(ctx, Request{Query: q, From: from, To: to, Count: true, ExactCount: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if res.Total < 0 {
		return int64(len(res.Events))
	}
	return res.Total
}

// TestHistogramAgreesWithSearch checks every bucket of exact and verified
// histograms against the search's count over the bucket's range.
func TestHistogramAgreesWithSearch(t *testing.T) {
	s := fixture(t, searchtest.SSHDLines())
	ctx := context.Background()
	for _, q := range []string{"", "host.name:web-01", "alice", "password AND NOT user.name:bob", "198.51.100.7"} {
		h, err := s.Histogram(ctx, HistogramRequest{Query: q, From: t0, To: t0.Add(time.Hour), Buckets: 6})
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if h.Width != 10*time.Minute || len(h.Buckets) != 6 || !h.Exact {
			t.Fatalf("%q: %v", q, h)
		}
		var total int64
		for _, b := range h.Buckets {
			want := searchCount(t, ctx, s, q, b.T, b.T.Add(h.Width))
			if b.Count != want {
				t.Errorf("%q: bucket %s counts %d, search finds %d", q, b.T.Format(time.RFC3339), b.Count, want)
			}
			total += b.Count
		}
		if want := searchCount(t, ctx, s, q, t0, t0.Add(time.Hour)); total != want || total == 0 {
			t.Errorf("%q: histogram total %d, search %d", q, total, want)
		}
	}
}

// TestHistogramOpenRangeUsesTheStoredEvents: without from and to, the
// histogram spans the stored events.
func TestHistogramOpenRangeUsesTheStoredEvents(t *testing.T) {
	s := fixture(t, searchtest.SSHDLines())
	h, err := s.Histogram(context.Background(), HistogramRequest{Buckets: 40})
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range h.Buckets {
		total += b.Count
	}
	if !h.From.Equal(t0) || h.Width != time.Minute || total != 40 || h.Buckets[0].Count != 1 || !h.Exact {
		t.Fatalf("open range: %v, first bucket %+v", h, h.Buckets[0])
	}
}

// TestHistogramEstimatesPastTheVerifyBound: with more candidate blocks
// than it may check, a keyword's histogram checks a sample, estimates the
// rest from the share that matched there, and says so.
func TestHistogramEstimatesPastTheVerifyBound(t *testing.T) {
	s := fixture(t, searchtest.SSHDLines())
	ctx := context.Background()
	// The fixture commits batches of 7 lines in blocks of 3, 3 and 1:
	// alice (lines 3, 13, 23, 33) is in the blocks [3-5], [13], [21-23]
	// and [31-33]. Checking one block, the newest, finds 1 match in 3
	// candidates: the others are estimated at a third of their rows, 1,
	// 1/3 (rounded to 0) and 1, one bucket each.
	h, err := s.Histogram(ctx, HistogramRequest{Query: "alice", From: t0, To: t0.Add(time.Hour), Buckets: 6, VerifyBlocks: 1})
	if err != nil {
		t.Fatal(err)
	}
	if h.Exact || !h.Sampled || h.UpperBound || h.VerifiedBlocks != 1 || h.CandidateBlocks != 4 {
		t.Fatalf("estimated histogram: %v (sampled %v, upper bound %v)", h, h.Sampled, h.UpperBound)
	}
	var total int64
	for _, b := range h.Buckets {
		total += b.Count
	}
	if total != 3 || h.Buckets[3].Count != 1 || h.Buckets[1].Count != 0 {
		t.Fatalf("estimated total %d, want 3 (1 checked in bucket 3, 2 estimated): %+v", total, h.Buckets)
	}
	// Within the bound the same query is exact.
	h, err = s.Histogram(ctx, HistogramRequest{Query: "alice", From: t0, To: t0.Add(time.Hour), Buckets: 6})
	if err != nil || !h.Exact || h.VerifiedBlocks != 4 {
		t.Fatalf("within the bound: %v %v", h, err)
	}
}

func TestHistogramHonoursAccess(t *testing.T) {
	s := fixture(t, []string{
		"<38>Nov 20 00:00:00 web-01 sshd[99]: Failed password for invalid user needle from 203.0.113.9 port 4242 ssh2",
		"<134>Nov 20 00:01:00 dsa-01 CEF:0|Trend Micro|Deep Security Agent|20.0.1|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset src=203.0.113.9 dst=10.0.0.5 proto=TCP spt=44521 dpt=22 msg=needle",
		"<13>Nov 20 00:02:00 app-01 myapp: needle seen from 203.0.113.9",
	})
	ctx := WithAccess(context.Background(), &Access{Deny: []string{"trendmicro.*"}})
	for _, q := range []string{"", "needle", "203.0.113.9", "source.ip:203.0.113.9", "event.dataset:trendmicro.deepsecurity"} {
		h, err := s.Histogram(ctx, HistogramRequest{Query: q, From: t0, To: t0.Add(10 * time.Minute), Buckets: 10})
		if err != nil {
			t.Fatal(err)
		}
		// The CEF event is the only one at minute 1.
		if h.Buckets[1].Count != 0 {
			t.Errorf("%q: a reader denied trendmicro.* counts %d events of it", q, h.Buckets[1].Count)
		}
	}
	h, err := s.Histogram(context.Background(), HistogramRequest{Query: "needle", From: t0, To: t0.Add(10 * time.Minute), Buckets: 10})
	if err != nil || h.Buckets[1].Count != 1 {
		t.Fatalf("without restriction: %v %v", h, err)
	}
}

// FuzzBucketWidth: the width is positive and covers the span in at most n
// buckets, for any span a range can have.
func FuzzBucketWidth(f *testing.F) {
	f.Add(int64(time.Hour), 60)
	f.Add(int64(30*24*time.Hour), 150)
	f.Add(int64(math.MaxInt64), 1)
	f.Add(int64(0), 1000)
	f.Fuzz(func(t *testing.T, span int64, n int) {
		if span < 0 || n < 1 || n > maxBuckets || span > int64(maxHistogramSpan) {
			return
		}
		w := BucketWidth(time.Duration(span), n)
		if w <= 0 {
			t.Fatalf("BucketWidth(%v, %d) = %v", time.Duration(span), n, w)
		}
		if q := time.Duration(span) / w; q > time.Duration(n) || q == time.Duration(n) && time.Duration(span)%w != 0 {
			t.Fatalf("BucketWidth(%v, %d) = %v needs %d buckets", time.Duration(span), n, w, q+1)
		}
	})
}

// TestHistogramCountsARareTermsCandidatesAll: by default a term whose
// candidate blocks are past the sample's 32 but few (a rare IOC over a
// month meets about 1 % of blocks falsely) is still counted exactly; many
// more are sampled.
func TestHistogramCountsARareTermsCandidatesAll(t *testing.T) {
	var lines []string
	for i := 0; i < 300; i++ {
		lines = append(lines, fmt.Sprintf("<38>Nov 20 %02d:%02d:00 web-01 sshd[1]: Failed password for needle%d from 198.51.100.1 port 22", i/60, i%60, i%2))
	}
	s := fixture(t, lines) // 3 records a block: the 150 needle0 lines are in 100 blocks
	ctx := context.Background()
	h, err := s.Histogram(ctx, HistogramRequest{Query: "needle0", From: t0, To: t0.Add(5 * time.Hour), Buckets: 5,
		VerifyTime: time.Minute}) // the block bound is under test, not the clock
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, b := range h.Buckets {
		total += b.Count
	}
	if !h.Exact || h.CandidateBlocks <= defaultVerifyBlocks || total != 150 {
		t.Fatalf("rare term over %d candidate blocks: %v, total %d, want exact 150", h.CandidateBlocks, h, total)
	}
	lines = nil
	for i := 0; i < 600; i++ {
		lines = append(lines, fmt.Sprintf("<38>Nov 20 %02d:%02d:00 web-01 sshd[1]: Failed password for common from 198.51.100.1 port 22", i/60, i%60))
	}
	s = fixture(t, lines)
	h, err = s.Histogram(ctx, HistogramRequest{Query: "common", From: t0, To: t0.Add(10 * time.Hour), Buckets: 5, VerifyTime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if h.Exact || h.VerifiedBlocks > defaultVerifyBlocks || h.CandidateBlocks <= defaultVerifyAll {
		t.Fatalf("common term: %v, want a sample of at most %d blocks", h, defaultVerifyBlocks)
	}
}
