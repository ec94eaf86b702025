package search

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/mamori-sec/mamori/internal/query"
	"github.com/mamori-sec/mamori/internal/store"
)

// DefaultFacetFields are the fields a console shows the top values of.
var DefaultFacetFields = []string{"event.dataset", "host.name", "source.ip", "user.name", "event.action", "event.outcome"}

// FacetsRequest asks for the most frequent values of fields among the
// events matching a query.
type FacetsRequest struct {
	Query    string
	From, To time.Time
	// Fields default to DefaultFacetFields.
	Fields []string
	// Size is how many values per field (default 10, at most 100).
	Size int
	// Sample is how many matching events are read when values must be
	// counted on the events themselves (default 1,000, at most 10,000).
	Sample int
	// ExactRows is the most matches the database counts exactly (default
	// 250,000); past it the values are estimated from a random sample of
	// about as many rows.
	ExactRows int64
	Access    *Access
}

// FacetValue is one value and the number of events holding it.
type FacetValue struct {
	Value string `json:"value"`
	Count int64  `json:"count"`
}

// Facet is the top values of one field.
type Facet struct {
	Field  string       `json:"field"`
	Values []FacetValue `json:"values"`
	// Other counts the values the top ones leave out (each element of a
	// list counts).
	Other int64 `json:"other"`
	// Sampled says the counts are not over every match: either over the
	// newest matching events (the response's SampleSize of them), or, with
	// Estimated, over a random sample of the matches, scaled to estimate
	// every match (the response's SamplePercent).
	Sampled   bool `json:"sampled"`
	Estimated bool `json:"estimated,omitempty"`
}

// Facets is the answer to a FacetsRequest.
type Facets struct {
	Facets []Facet
	// Sampled says some facet was counted over a sample of the matches:
	// SampleSize is how many of the newest matches were read, or
	// SamplePercent the share of rows the database sampled.
	Sampled       bool
	SampleSize    int
	SamplePercent float64
	Took          time.Duration
}

const (
	defaultFacetSize   = 10
	maxFacetSize       = 100
	defaultFacetSample = 1000
)

// Facets counts the top values of each field among the events matching
// the query. For a query the SQL decides alone, a promoted field is
// counted by the database, over every match when they are at most
// ExactRows and over a random sample of about that many otherwise;
// otherwise (a keyword, or a field that is not
// a promoted column) the values are counted over the first Sample
// matches, newest first, and the facet says it is sampled when there were
// more matches than that.
func (s *Searcher) Facets(ctx context.Context, r FacetsRequest) (Facets, error) {
	start := time.Now()
	n, err := Parse(r.Query)
	if err != nil {
		return Facets{}, err
	}
	n = AccessFrom(ctx).Restrict(r.Access.Restrict(n))
	where, args, exact, err := query.CompileFilter(n)
	if err != nil {
		return Facets{}, &QueryError{Err: err}
	}
	fields := r.Fields
	if len(fields) == 0 {
		fields = DefaultFacetFields
	}
	size := r.Size
	if size <= 0 {
		size = defaultFacetSize
	}
	size = min(size, maxFacetSize)
	sampleSize := r.Sample
	if sampleSize <= 0 {
		sampleSize = defaultFacetSample
	}
	sampleSize = min(sampleSize, maxLimit)

	out := Facets{Facets: make([]Facet, len(fields))}
	rq := store.RowQuery{Where: where, Args: args, From: r.From, To: r.To}
	// percent, when above 0, is the share of rows the database reads for a
	// query with too many matches to group them all in time.
	var percent float64
	if exact {
		if rq, err = s.narrow(ctx, n, rq); err != nil {
			return Facets{}, err
		}
		if percent, err = s.facetSample(ctx, rq, r.ExactRows); err != nil {
			return Facets{}, err
		}
	}
	var pending []int // facets left for the sample
	for i, f := range fields {
		out.Facets[i] = Facet{Field: f, Values: []FacetValue{}}
		if !exact {
			pending = append(pending, i)
			continue
		}
		top, total, ok, err := s.Store.TopValues(ctx, rq, f, size, percent)
		if err != nil {
			return Facets{}, err
		}
		if !ok {
			pending = append(pending, i)
			continue
		}
		// A sample's counts are scaled to estimate the whole.
		scale := func(c int64) int64 { return c }
		if percent > 0 {
			out.Facets[i].Sampled, out.Facets[i].Estimated = true, true
			scale = func(c int64) int64 { return int64(math.Round(float64(c) * 100 / percent)) }
		}
		var shown int64
		for _, v := range top {
			out.Facets[i].Values = append(out.Facets[i].Values, FacetValue{Value: v.Value, Count: scale(v.Count)})
			shown += v.Count
		}
		out.Facets[i].Other = scale(total - shown)
	}
	if percent > 0 {
		out.Sampled, out.SamplePercent = true, percent
	}
	if len(pending) > 0 {
		// The node is already restricted; the search restricts it again
		// with the same access, which changes nothing.
		res, err := s.searchNode(ctx, n, Request{From: r.From, To: r.To, Limit: sampleSize})
		if err != nil {
			return Facets{}, err
		}
		// A sample that holds every match (no next page) counts them all.
		sampled := res.Next != ""
		out.Sampled = sampled
		if sampled {
			out.SampleSize = len(res.Events)
		}
		for _, i := range pending {
			counts := map[string]int64{}
			for _, e := range res.Events {
				for _, v := range e.Strings(out.Facets[i].Field) {
					counts[v]++
				}
			}
			out.Facets[i].Values, out.Facets[i].Other = topOf(counts, size)
			out.Facets[i].Sampled = sampled
		}
	}
	out.Took = time.Since(start)
	if s.Metrics != nil {
		s.Metrics.QueryLatency.WithLabelValues("facets").Observe(out.Took.Seconds())
	}
	return out, nil
}

// facetRows is the most matches the facets group exactly by default;
// past it they are counted on a random sample of about that many rows
// (grouping ten million addresses takes over a second, a sample of
// 250,000 some tens of milliseconds).
const facetRows = 250_000

// facetSample returns the share of rows (in percent) to sample for an
// exact query's facets, or 0 to count every match.
func (s *Searcher) facetSample(ctx context.Context, rq store.RowQuery, limit int64) (float64, error) {
	if limit <= 0 {
		limit = facetRows
	}
	_, complete, err := s.Store.CountUpTo(ctx, rq, limit)
	if err != nil || complete {
		return 0, err
	}
	total, err := s.Store.Count(ctx, rq)
	if err != nil || total == 0 {
		return 0, err
	}
	// DuckDB samples whole vectors of 2,048 rows: at least 1 % keeps a
	// sample of a big table from being a handful of vectors.
	return max(1, 100*float64(limit)/float64(total)), nil
}

// searchNode runs one page of an already parsed and restricted query.
func (s *Searcher) searchNode(ctx context.Context, n query.Node, r Request) (Result, error) {
	where, args, exact, err := query.CompileFilter(n)
	if err != nil {
		return Result{}, &QueryError{Err: err}
	}
	rq := store.RowQuery{Where: where, Args: args, From: r.From, To: r.To}
	if exact {
		if rq, err = s.narrow(ctx, n, rq); err != nil {
			return Result{}, err
		}
		return s.exact(ctx, rq, r.Limit, false, false)
	}
	return s.verified(ctx, n, rq, r.Limit, false)
}

// topOf returns the k most frequent values (ties by value) and the count
// of the rest.
func topOf(counts map[string]int64, k int) ([]FacetValue, int64) {
	all := make([]FacetValue, 0, len(counts))
	for v, c := range counts {
		all = append(all, FacetValue{Value: v, Count: c})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].Count != all[j].Count {
			return all[i].Count > all[j].Count
		}
		return all[i].Value < all[j].Value
	})
	var other int64
	if len(all) > k {
		for _, v := range all[k:] {
			other += v.Count
		}
		all = all[:k]
	}
	return all, other
}
