package search

import (
	"context"
	"fmt"
	"testing"

	"github.com/mamori-sec/mamori/internal/search/searchtest"
)

// facetOf returns the facet of field.
func facetOf(t *testing.T, f Facets, field string) Facet {
	t.Helper()
	for _, x := range f.Facets {
		if x.Field == field {
			return x
		}
	}
	t.Fatalf("no facet for %s in %+v", field, f)
	return Facet{}
}

// countValues counts a field's values over every event matching q.
func countValues(t *testing.T, s *Searcher, q, field string) map[string]int64 {
	t.Helper()
	res, err := s.Search(context.Background(), Request{Query: q, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, e := range res.Events {
		for _, v := range e.Strings(field) {
			out[v]++
		}
	}
	return out
}

func TestFacetsCountEveryMatchOfAnExactQuery(t *testing.T) {
	s := fixture(t, searchtest.SSHDLines())
	ctx := context.Background()
	q := "NOT host.name:web-03"
	f, err := s.Facets(ctx, FacetsRequest{Query: q, Size: 2})
	if err != nil {
		t.Fatal(err)
	}
	if f.Sampled || len(f.Facets) != len(DefaultFacetFields) {
		t.Fatalf("facets: %+v", f)
	}
	for _, field := range []string{"host.name", "user.name", "source.ip"} {
		want := countValues(t, s, q, field)
		got := facetOf(t, f, field)
		var sum int64
		for _, v := range got.Values {
			if v.Count != want[v.Value] {
				t.Errorf("%s=%s: facet counts %d, the events %d", field, v.Value, v.Count, want[v.Value])
			}
			sum += v.Count
		}
		var all int64
		for _, c := range want {
			all += c
		}
		if len(got.Values) != min(2, len(want)) || sum+got.Other != all || got.Sampled {
			t.Errorf("%s: %+v, want the top 2 of %v", field, got, want)
		}
	}
	if got := facetOf(t, f, "user.name"); len(got.Values) != 2 || got.Values[0].Value != "bob" || got.Values[0].Count != 28 {
		t.Errorf("user.name top = %+v, want bob 28 first", got.Values)
	}
}

func TestFacetsSampleAVerifiedQuery(t *testing.T) {
	s := fixture(t, searchtest.SSHDLines())
	ctx := context.Background()
	// A keyword needs its matches checked: the values are counted on the
	// first matches, here all of them, so the counts are complete.
	f, err := s.Facets(ctx, FacetsRequest{Query: "alice", Fields: []string{"host.name", "process.pid"}})
	if err != nil {
		t.Fatal(err)
	}
	host := facetOf(t, f, "host.name")
	if f.Sampled || host.Sampled || fmt.Sprint(host.Values) != "[{web-01 2} {web-03 2}]" {
		t.Errorf("facets of a rare keyword: %+v", f)
	}
	// Past the sample's size they are counted on the newest matches and
	// say so: alice's two newest lines are 33 (web-01) and 23 (web-03).
	f, err = s.Facets(ctx, FacetsRequest{Query: "alice", Fields: []string{"host.name"}, Sample: 1})
	if err != nil {
		t.Fatal(err)
	}
	host = facetOf(t, f, "host.name")
	if !f.Sampled || f.SampleSize != 1 || !host.Sampled || fmt.Sprint(host.Values) != "[{web-01 1}]" {
		t.Errorf("sampled facets of a keyword: %+v", f)
	}
	// A field that is not promoted is counted on the sample even for an
	// exact query; the sample stops at Sample events.
	f, err = s.Facets(ctx, FacetsRequest{Query: "user.name:bob", Fields: []string{"process.pid", "user.name"}, Sample: 5, Size: 100})
	if err != nil {
		t.Fatal(err)
	}
	pid, user := facetOf(t, f, "process.pid"), facetOf(t, f, "user.name")
	if !pid.Sampled || len(pid.Values) != 5 || f.SampleSize != 5 || user.Sampled || fmt.Sprint(user.Values) != "[{bob 36}]" {
		t.Errorf("mixed facets: pid %+v, user %+v, sample %d", pid, user, f.SampleSize)
	}
}

func TestFacetsHonourAccess(t *testing.T) {
	s := fixture(t, []string{
		"<38>Nov 20 00:00:00 web-01 sshd[99]: Failed password for invalid user needle from 203.0.113.9 port 4242 ssh2",
		"<134>Nov 20 00:01:00 dsa-01 CEF:0|Trend Micro|Deep Security Agent|20.0.1|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset src=203.0.113.9 dst=10.0.0.5 proto=TCP spt=44521 dpt=22 msg=needle",
		"<13>Nov 20 00:02:00 app-01 myapp: needle seen from 203.0.113.9",
	})
	ctx := WithAccess(context.Background(), &Access{Deny: []string{"trendmicro.*"}})
	for _, q := range []string{"", "needle", "source.ip:203.0.113.9"} {
		f, err := s.Facets(ctx, FacetsRequest{Query: q, Fields: []string{"event.dataset", "host.name", "event.action"}})
		if err != nil {
			t.Fatal(err)
		}
		for _, fc := range f.Facets {
			for _, v := range fc.Values {
				if v.Value == "trendmicro.deepsecurity" || v.Value == "dsa-01" || v.Value == "Reset" {
					t.Errorf("%q: a reader denied trendmicro.* sees %s=%s", q, fc.Field, v.Value)
				}
			}
		}
	}
}

// TestFacetsEstimatePastExactRows: past ExactRows matches, an exact
// query's facets are counted on a random sample by the database and
// scaled to estimate every match, and say so.
func TestFacetsEstimatePastExactRows(t *testing.T) {
	s := fixture(t, searchtest.SSHDLines())
	ctx := context.Background()
	exact, err := s.Facets(ctx, FacetsRequest{Fields: []string{"user.name"}})
	if err != nil || exact.Sampled {
		t.Fatalf("40 events counted exactly: %+v %v", exact, err)
	}
	f, err := s.Facets(ctx, FacetsRequest{Fields: []string{"user.name"}, ExactRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	u := f.Facets[0]
	if !f.Sampled || f.SamplePercent != 25 || !u.Sampled || !u.Estimated {
		t.Fatalf("past ExactRows: %+v", f)
	}
	// DuckDB samples whole vectors of rows, and these 40 rows fit in one:
	// the sample holds all of them or none. Either way each count is the
	// sample's scaled by 100/25.
	want := map[string]int64{}
	for _, v := range exact.Facets[0].Values {
		want[v.Value] = v.Count * 4
	}
	for _, v := range u.Values {
		if v.Count != want[v.Value] {
			t.Errorf("estimated %s = %d, want %d", v.Value, v.Count, want[v.Value])
		}
	}
}
