package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"
)

// Query classes, with the goals for 10 million events over 30 days.
const (
	classField    = "field"     // field:value, <= 50 ms median
	classKeyword  = "keyword"   // a bare keyword, <= 300 ms median
	classLastHour = "last-hour" // anything over the last hour, <= 50 ms median
	classInfo     = "info"      // measured for reference, no goal
	// The console's reads beside the search: the histogram of matches
	// over the whole 30 days (<= 500 ms) and the top values (no goal).
	classHistogram = "histogram"
	classFacets    = "facets"
)

var classGoalMs = map[string]float64{classField: 50, classKeyword: 300, classLastHour: 50, classHistogram: 500}

// QuerySpec is one search of the query set.
type QuerySpec struct {
	Name  string `json:"name"`
	Class string `json:"class"`
	Query string `json:"q"`
	From  string `json:"from,omitempty"` // "" is all time
	Count bool   `json:"count"`
	// Exact asks for an exact count however many match (count=exact);
	// otherwise the server counts up to 10,000.
	Exact bool `json:"exact,omitempty"`
}

// Stats summarise repeated timings, in milliseconds.
type Stats struct {
	Min    float64 `json:"min"`
	Median float64 `json:"median"`
	Max    float64 `json:"max"`
}

func summarise(ms []float64) Stats {
	if len(ms) == 0 {
		return Stats{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Stats{Min: s[0], Median: med, Max: s[len(s)-1]}
}

// QueryResult is a query's timings: wall time of the HTTP request as the
// client saw it, and the server's own took_ms.
type QueryResult struct {
	QuerySpec
	// Hits is the total (count=true) or the events returned (count=false,
	// at most the limit of 100).
	Hits int64 `json:"hits"`
	// HitsAtLeast says Hits is a lower bound (the count stopped at the
	// server's limit).
	HitsAtLeast bool    `json:"hits_at_least,omitempty"`
	Runs        int     `json:"runs"`
	Wall        Stats   `json:"wall_ms"`
	Took        Stats   `json:"took_ms"`
	GoalMs      float64 `json:"goal_ms"`
	Met         bool    `json:"met"` // the median wall time is within the goal
}

// Values the query set looks for besides the needles: an Intrusion
// Prevention Note (cs1) about one IPS event in ten carries, and a word of
// many sshd messages.
const (
	vendorFieldValue = "CVE-2021-44228"
	commonWord       = "password"
)

// querySet is the searches run on a loaded store; needles come from the
// manifest so that rare searches have a known answer.
func querySet(m *Manifest) []QuerySpec {
	lastHour := m.End.Add(-time.Hour).UTC().Format(time.RFC3339)
	lastDay := m.End.Add(-24 * time.Hour).UTC().Format(time.RFC3339)
	n := m.Needles
	return []QuerySpec{
		{"IP on a promoted column", classField, "source.ip:" + n.IP, "", true, false},
		{"user in related.user (promoted list)", classField, "related.user:" + n.User, "", true, false},
		{"user.name (promoted column)", classField, "user.name:" + n.User, "", true, false},
		{"vendor field, not promoted", classField, `cef.extensions.deviceCustomString1:"` + vendorFieldValue + `"`, "", true, false},
		{"CIDR on a promoted column", classField, "source.ip:198.51.100.0/24", "", true, false},
		{"CIDR, exact count of every hit", classInfo, "source.ip:198.51.100.0/24", "", true, true},
		{"rare keyword", classKeyword, n.Token, "", true, false},
		{"rare keyword, no count", classKeyword, n.Token, "", false, false},
		{"IP as a keyword", classKeyword, n.IP, "", true, false},
		{"common keyword", classKeyword, commonWord, "", true, false},
		{"common keyword, no count", classKeyword, commonWord, "", false, false},
		{"last hour, everything", classLastHour, "", lastHour, true, false},
		{"last hour, keyword", classLastHour, commonWord, lastHour, true, false},
		{"keyword, last 24 hours (the console's first page)", classKeyword, commonWord, lastDay, true, false},
		{"histogram over 30 days, everything", classHistogram, "", "", false, false},
		{"histogram over 30 days, promoted field", classHistogram, "event.outcome:failure", "", false, false},
		{"histogram over 30 days, rare keyword", classHistogram, n.Token, "", false, false},
		{"histogram over 30 days, common keyword (estimated)", classHistogram, commonWord, "", false, false},
		{"facets over 30 days, everything", classFacets, "", "", false, false},
		{"facets over 30 days, common keyword (sampled)", classFacets, commonWord, "", false, false},
	}
}

type searchAnswer struct {
	Events []json.RawMessage `json:"events"`
	Total  *int64            `json:"total"`
	// TotalRelation is "gte" when the count stopped at the server's limit.
	TotalRelation string  `json:"total_relation"`
	TookMs        float64 `json:"took_ms"`
	// Buckets and Exact answer a histogram (their sum is its total).
	Buckets []struct {
		Count int64 `json:"count"`
	} `json:"buckets"`
	Exact bool `json:"exact"`
	// Facets answer a facets request: the first one's values and other
	// add up to the events counted.
	Facets []struct {
		Values []struct {
			Count int64 `json:"count"`
		} `json:"values"`
		Other int64 `json:"other"`
	} `json:"facets"`
}

// search runs one search page of limit 100 and times it.
func (s *server) search(ctx context.Context, q QuerySpec) (searchAnswer, time.Duration, error) {
	v := url.Values{"q": {q.Query}, "limit": {"100"}, "count": {fmt.Sprint(q.Count)}}
	if q.Exact {
		v.Set("count", "exact")
	}
	path := "/api/v1/search"
	switch q.Class {
	case classHistogram:
		// As the console asks for 30 days on a laptop screen.
		path, v = "/api/v1/histogram", url.Values{"q": {q.Query}, "buckets": {"150"}}
	case classFacets:
		path, v = "/api/v1/facets", url.Values{"q": {q.Query}}
	}
	if q.From != "" {
		v.Set("from", q.From)
	}
	var a searchAnswer
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.http+path+"?"+v.Encode(), nil)
	if err != nil {
		return a, 0, err
	}
	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return a, 0, fmt.Errorf("search %q: %w", q.Query, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	wall := time.Since(start)
	if err != nil {
		return a, 0, fmt.Errorf("search %q: %w", q.Query, err)
	}
	if resp.StatusCode != http.StatusOK {
		return a, 0, fmt.Errorf("search %q: %s: %s", q.Query, resp.Status, body)
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return a, 0, fmt.Errorf("search %q: decode answer: %w", q.Query, err)
	}
	if q.Class == classHistogram {
		var n int64
		for _, b := range a.Buckets {
			n += b.Count
		}
		// An estimated histogram (Exact false) says so in its name.
		a.Total = &n
	}
	if q.Class == classFacets && len(a.Facets) > 0 {
		n := a.Facets[0].Other
		for _, v := range a.Facets[0].Values {
			n += v.Count
		}
		a.Total = &n
	}
	return a, wall, nil
}

// runQuery runs q once to warm up, then runs times.
func runQuery(ctx context.Context, s *server, q QuerySpec, runs int) (QueryResult, error) {
	r := QueryResult{QuerySpec: q, Runs: runs, GoalMs: classGoalMs[q.Class]}
	if _, _, err := s.search(ctx, q); err != nil {
		return r, err
	}
	var wall, took []float64
	for range runs {
		a, d, err := s.search(ctx, q)
		if err != nil {
			return r, err
		}
		wall = append(wall, ms(d))
		took = append(took, a.TookMs)
		r.Hits = int64(len(a.Events))
		if a.Total != nil {
			r.Hits = *a.Total
			r.HitsAtLeast = a.TotalRelation == "gte"
		}
	}
	r.Wall, r.Took = summarise(wall), summarise(took)
	r.Met = r.GoalMs == 0 || r.Wall.Median <= r.GoalMs
	return r, nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
