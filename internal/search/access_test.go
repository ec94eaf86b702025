package search

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/query"
)

func TestAccessSees(t *testing.T) {
	cases := []struct {
		a    *Access
		name string
		want bool
	}{
		{nil, "google_workspace.drive", true},
		{&Access{}, "google_workspace.drive", true},
		{&Access{Deny: []string{"google_workspace.drive"}}, "google_workspace.drive", false},
		{&Access{Deny: []string{"google_workspace.drive"}}, "google_workspace.login", true},
		{&Access{Deny: []string{"google_workspace.*"}}, "google_workspace.login", false},
		{&Access{Deny: []string{"google_workspace.*"}}, "google_workspace", true},
		{&Access{Allow: []string{"aws.*"}}, "aws.cloudtrail", true},
		{&Access{Allow: []string{"aws.*"}}, "awsx.cloudtrail", false},
		{&Access{Allow: []string{"*"}, Deny: []string{"aws.waf"}}, "aws.waf", false},
		{&Access{Allow: []string{"*"}, Deny: []string{"aws.waf"}}, "syslog", true},
	}
	for _, c := range cases {
		if got := c.a.Sees(c.name); got != c.want {
			t.Errorf("%+v.Sees(%q) = %v, want %v", c.a, c.name, got, c.want)
		}
	}
}

func TestCheckPattern(t *testing.T) {
	for _, ok := range []string{"*", "aws.*", "google_workspace.drive", "syslog"} {
		if err := CheckPattern(ok); err != nil {
			t.Errorf("CheckPattern(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "aws*", "a b", "x:y", "*.drive"} {
		if CheckPattern(bad) == nil {
			t.Errorf("CheckPattern(%q) accepted", bad)
		}
	}
}

// TestSearchHonoursAccess stores lines of three datasets that share a
// keyword and an address, and reads them through every kind of query a
// reader can write: a reader never gets an event of a dataset it may not
// see, nor counts it.
func TestSearchHonoursAccess(t *testing.T) {
	lines := []string{
		"<38>Nov 20 00:00:00 web-01 sshd[99]: Failed password for invalid user needle from 203.0.113.9 port 4242 ssh2",
		"<134>Nov 20 00:01:00 dsa-01 CEF:0|Trend Micro|Deep Security Agent|20.0.1|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset src=203.0.113.9 dst=10.0.0.5 proto=TCP spt=44521 dpt=22 msg=needle",
		"<13>Nov 20 00:02:00 app-01 myapp: needle seen from 203.0.113.9",
	}
	s := fixture(t, lines)
	ctx := context.Background()
	all, err := s.Search(ctx, Request{Query: "needle", Count: true})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range all.Events {
		names = append(names, e.String("event.dataset"))
	}
	sort.Strings(names)
	if len(names) != 3 || names[0] != "linux.syslog" || names[1] != "syslog" || names[2] != "trendmicro.deepsecurity" {
		t.Fatalf("fixture datasets = %v, want linux.syslog, syslog, trendmicro.deepsecurity", names)
	}
	readers := []struct {
		name string
		a    *Access
		want []string
	}{
		{"deny family", &Access{Deny: []string{"trendmicro.*"}}, []string{"linux.syslog", "syslog"}},
		{"allow one", &Access{Allow: []string{"linux.syslog"}}, []string{"linux.syslog"}},
		{"allow all but one", &Access{Allow: []string{"*"}, Deny: []string{"syslog"}}, []string{"linux.syslog", "trendmicro.deepsecurity"}},
		{"allow nothing that exists", &Access{Allow: []string{"aws.*"}}, nil},
	}
	queries := []string{"needle", "203.0.113.9", "source.ip:203.0.113.9", "related.ip:203.0.113.0/24", "*", "needle OR event.dataset:trendmicro.deepsecurity", "NOT host.name:nobody"}
	for _, r := range readers {
		for _, q := range queries {
			res, err := s.Search(ctx, Request{Query: q, Access: r.a, Count: true, ExactCount: true})
			if err != nil {
				t.Fatalf("%s: %q: %v", r.name, q, err)
			}
			for _, e := range res.Events {
				if ds := e.String("event.dataset"); !r.a.Sees(ds) {
					t.Errorf("%s: %q returned an event of %s", r.name, q, ds)
				}
			}
			if res.Total > int64(len(r.want)) {
				t.Errorf("%s: %q counted %d events, more than the %d visible", r.name, q, res.Total, len(r.want))
			}
		}
		res, err := s.Search(ctx, Request{Query: "needle", Access: r.a, Count: true})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range res.Events {
			got = append(got, e.String("event.dataset"))
		}
		sort.Strings(got)
		if len(got) != len(r.want) || res.Total != int64(len(r.want)) {
			t.Errorf("%s: needle found %v (total %d), want %v", r.name, got, res.Total, r.want)
			continue
		}
		for i := range got {
			if got[i] != r.want[i] {
				t.Errorf("%s: needle found %v, want %v", r.name, got, r.want)
			}
		}
	}
}

func TestRestrictLeavesFullAccessAlone(t *testing.T) {
	n, err := query.Parse("user.name:alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []*Access{nil, {}, {Allow: []string{"*"}}} {
		if got := a.Restrict(n); got != n {
			t.Errorf("%+v restricted %s to %s", a, n, got)
		}
	}
	got := (&Access{Deny: []string{"aws.*"}}).Restrict(n).String()
	want := "user.name:alice AND NOT event.dataset:aws.*"
	if got != want {
		t.Errorf("Restrict = %s, want %s", got, want)
	}
}

func TestSearchHonoursContextAccess(t *testing.T) {
	s := fixture(t, []string{
		"<38>Nov 20 00:00:00 web-01 sshd[99]: Failed password for invalid user needle from 203.0.113.9 port 4242 ssh2",
		"<13>Nov 20 00:02:00 app-01 myapp: needle seen from 203.0.113.9",
	})
	ctx := WithAccess(context.Background(), &Access{Deny: []string{"linux.*"}})
	res, err := s.Search(ctx, Request{Query: "needle", Count: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 1 || res.Events[0].String("event.dataset") != "syslog" || res.Total != 1 {
		t.Fatalf("context access: got %d events (total %d), want only the syslog one", len(res.Events), res.Total)
	}
	// The request's access narrows further; it never widens the context's.
	res, err = s.Search(ctx, Request{Query: "needle", Access: &Access{Allow: []string{"linux.syslog"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 0 {
		t.Fatalf("request access widened the context's: %d events", len(res.Events))
	}
}

// TestRelatedHashFoundWithoutAColumn: related.hash is not a promoted
// column; a hash is still found by field and as a bare keyword, and only
// in the event that holds it.
func TestRelatedHashFoundWithoutAColumn(t *testing.T) {
	const sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	var lines []string
	for i := 0; i < 20; i++ {
		lines = append(lines, "<13>Nov 20 00:00:00 app-01 myapp: nothing to see "+strings.Repeat("x", i))
	}
	lines[13] = "<134>Nov 20 00:13:00 av-01 CEF:0|Acme|AV|1.0|100|Malware found|8|src=10.0.0.9 fileHash=" + sha + " fname=evil.exe"
	s := fixture(t, lines)
	for _, q := range []string{"related.hash:" + sha, "file.hash.sha256:" + sha, sha, strings.ToUpper(sha)} {
		res, err := s.Search(context.Background(), Request{Query: q, Count: true})
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(res.Events) != 1 || res.Total != 1 || res.Events[0].String("host.name") != "av-01" {
			t.Errorf("%s: %d events (total %d), want the av-01 event alone", q, len(res.Events), res.Total)
		}
	}
}
