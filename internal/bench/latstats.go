package bench

import (
	"math"
	"slices"
	"time"
)

// LatencyStats summarises the probes' latencies. A probe whose
// notification never came counts as slower than every other, so a
// percentile that falls on one is missing (nil): lost probes are never
// left out to flatter the figures.
type LatencyStats struct {
	Probes int      `json:"probes"`
	Lost   int      `json:"lost"`
	P50MS  *float64 `json:"p50_ms"`
	P95MS  *float64 `json:"p95_ms"`
	MaxMS  *float64 `json:"max_ms"`
	MinMS  *float64 `json:"min_ms"`
	// EachMS is every notified probe's latency, in the order sent.
	EachMS []float64 `json:"each_ms"`
}

// latencyStats computes the stats of the latencies of the probes that got
// through and the count of those that did not.
func latencyStats(lat []time.Duration, lost int) LatencyStats {
	s := LatencyStats{Probes: len(lat) + lost, Lost: lost, EachMS: []float64{}}
	for _, d := range lat {
		s.EachMS = append(s.EachMS, ms(d))
	}
	if len(lat) == 0 {
		return s
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	s.P50MS = percentile(sorted, s.Probes, 50)
	s.P95MS = percentile(sorted, s.Probes, 95)
	s.MaxMS = percentile(sorted, s.Probes, 100)
	s.MinMS = msPtr(sorted[0])
	return s
}

// percentile is the nearest-rank p-th percentile of n values of which
// sorted are the known ones, ascending, and the rest are unknown and
// larger; nil when it falls on an unknown one.
func percentile(sorted []time.Duration, n int, p float64) *float64 {
	if n == 0 {
		return nil
	}
	rank := max(int(math.Ceil(p/100*float64(n))), 1)
	if rank > len(sorted) {
		return nil
	}
	return msPtr(sorted[rank-1])
}

func msPtr(d time.Duration) *float64 {
	v := ms(d)
	return &v
}
