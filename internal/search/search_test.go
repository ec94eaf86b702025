package search

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/query"
	"github.com/mamori-sec/mamori/internal/search/searchtest"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// fixture stores the syslog lines, one a minute from t0, through the real
// processor with small blocks, and returns a searcher over them.
func fixture(t *testing.T, lines []string) *Searcher {
	t.Helper()
	reg := datasets.Builtin(datasets.Options{})
	st := searchtest.Load(t, searchtest.Options{Datasets: reg, Index: IndexBlock, Created: t0, Now: t0, BatchRecords: 7, BlockRecords: 3},
		searchtest.Object{Key: "raw/syslog/2026/11/20/00/obj.ndjson.zst", Dataset: "syslog",
			Records: searchtest.Records(lines, t0, time.Minute, "192.0.2.1:514")})
	return New(st, reg, nil)
}

func messages(evs []*event.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.String("message"))
	}
	return out
}

func TestSearchReDerivesAndFilters(t *testing.T) {
	lines := append(searchtest.SSHDLines(), "<38>Nov 20 00:41:00 web-01 sshd[9]: Accepted password for malice from 203.0.113.77 port 22")
	s := fixture(t, lines)
	ctx := context.Background()

	search := func(q string, r Request) Result {
		t.Helper()
		r.Query = q
		res, err := s.Search(ctx, r)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		return res
	}
	// Keywords match whole words: alice is not in malice.
	res := search("alice", Request{Count: true})
	if len(res.Events) != 4 || res.Total != 4 {
		t.Fatalf("alice: %d events, total %d: %q", len(res.Events), res.Total, messages(res.Events))
	}
	for _, e := range res.Events {
		if e.String("host.name") == "" || e.String("event.id") == "" || e.String("event.original") == "" {
			t.Fatalf("re-derived event lacks fields: %v", e.Keys())
		}
	}
	if !sort.SliceIsSorted(res.Events, func(i, j int) bool { return res.Events[i].Time().After(res.Events[j].Time()) }) {
		t.Fatal("not newest first")
	}
	// A rare keyword reads only the blocks whose filters may hold it.
	res = search("203.0.113.77", Request{Count: true})
	if len(res.Events) != 1 || res.Total != 1 || res.Events[0].String("process.pid") != "9" {
		t.Fatalf("rare ip: %q total %d", messages(res.Events), res.Total)
	}
	// Promoted fields and a NOT keyword: 11 lines on web-01, two of them alice.
	res = search("host.name:web-01 AND NOT alice", Request{Count: true, Limit: 3, Asc: true})
	if res.Total != 9 || len(res.Events) != 3 || res.Next == "" {
		t.Fatalf("host: total %d, %d events, next %q", res.Total, len(res.Events), res.Next)
	}
	// Promoted fields alone are answered by SQL, exactly.
	res = search("host.name:web-02 AND process.name:sshd", Request{Count: true, Limit: 4})
	if res.Total != 10 || len(res.Events) != 4 || res.Events[0].String("host.name") != "web-02" {
		t.Fatalf("exact: total %d, %d events", res.Total, len(res.Events))
	}
	// A count past the searcher's limit stops there and says so, unless
	// asked to be exact.
	s.CountLimit = 5
	res = search("host.name:web-02 AND process.name:sshd", Request{Count: true, Limit: 4})
	if res.Total != 5 || !res.TotalAtLeast {
		t.Fatalf("bounded count: total %d, at least %v; want 5, true", res.Total, res.TotalAtLeast)
	}
	res = search("host.name:web-02 AND process.name:sshd", Request{Count: true, ExactCount: true, Limit: 4})
	if res.Total != 10 || res.TotalAtLeast {
		t.Fatalf("exact count: total %d, at least %v; want 10, false", res.Total, res.TotalAtLeast)
	}
	s.CountLimit = 0
	// A field that is not promoted is checked on the re-derived events,
	// after the block filters (which hold every text value) rule blocks out.
	res = search("log.syslog.hostname:web-03", Request{Count: true})
	if res.Total != 10 {
		t.Fatalf("non-promoted field: total %d, want 10", res.Total)
	}
	if res = search("log.syslog.hostname:web-99", Request{Count: true}); res.Total != 0 || len(res.Events) != 0 {
		t.Fatalf("absent value: total %d", res.Total)
	}
	// Paging a verified query gives every match once, in order.
	var all []string
	r := Request{Limit: 3}
	for {
		res = search("password AND (bob OR malice)", r)
		all = append(all, messages(res.Events)...)
		if res.Next == "" {
			break
		}
		r.Cursor = res.Next
	}
	if len(all) != 37 {
		t.Fatalf("paged %d matches, want 37", len(all))
	}
	seen := map[string]bool{}
	for _, m := range all {
		if seen[m] {
			t.Fatalf("%q returned twice", m)
		}
		seen[m] = true
	}
	// The time range bounds every kind of query.
	res = search("alice", Request{From: t0.Add(10 * time.Minute), To: t0.Add(30 * time.Minute), Count: true})
	if res.Total != 2 {
		t.Fatalf("alice in range: %d", res.Total)
	}
	if _, err := s.Search(ctx, Request{Query: "user.name:("}); err == nil {
		t.Fatal("syntax error not reported")
	}
	if _, err := s.Search(ctx, Request{Cursor: "x"}); err == nil {
		t.Fatal("bad cursor not reported")
	}
}

func TestContainsFoldASCII(t *testing.T) {
	for _, tc := range []struct {
		data, needle string
		want         bool
	}{
		{"Failed PASSWORD for", "password", true},
		{"aaaaab", "ab", true},
		{"xyz", "xyzz", false},
		{"", "a", false},
		{"abc", "", true},
		{"ÄLICE", "lice", true},
		{"pasSword at the end: PASSWORD", "password", true},
		{"Pp pP ppassword", "password", true},
		{"passwor", "password", false},
		{"x PASSWORx", "password", false},
		{"1.2.3.4 and 10.2.3.4", "0.2.3.4", true},
	} {
		if got := containsFoldASCII([]byte(tc.data), []byte(tc.needle)); got != tc.want {
			t.Errorf("containsFoldASCII(%q, %q) = %v", tc.data, tc.needle, got)
		}
	}
}

func TestPruneDropsFiltersOfDeletedBlocks(t *testing.T) {
	var lines []string
	for i := 0; i < 12; i++ {
		lines = append(lines, fmt.Sprintf("<38>Nov 20 00:%02d:00 web-01 myapp[1]: line %d", i, i))
	}
	s := fixture(t, lines)
	ctx := context.Background()
	if _, err := s.Search(ctx, Request{Query: "line"}); err != nil {
		t.Fatal(err)
	}
	if len(s.bloom.m) != 5 {
		t.Fatalf("%d filters cached, want 5 (batches of 7 and 5 records, 3 a block)", len(s.bloom.m))
	}
	if _, err := s.Store.DeleteBefore(ctx, "syslog", t0.Add(7*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if len(s.bloom.m) != 2 {
		t.Fatalf("%d filters cached after retention, want 2", len(s.bloom.m))
	}
}

func TestParsedEnough(t *testing.T) {
	for q, want := range map[string]bool{
		`cef.extensions.deviceCustomString1:"CVE-2021-44228"`:     true,
		`log.syslog.hostname:web-03 AND NOT process.pid:[1 TO 9]`: true,
		`log.syslog.hostname:web-03 AND alice`:                    false, // keyword
		`related.user:bob`:                                        false,
		`event.original:*sshd*`:                                   false,
		`_exists_:error.message`:                                  false,
		`_exists_:event`:                                          false, // holds completed fields
	} {
		n, err := query.Parse(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got := parsedEnough(n); got != want {
			t.Errorf("parsedEnough(%q) = %v, want %v", q, got, want)
		}
	}
}

// The raw-text check rules a record out only for keywords and for plain
// text values of verbatim fields; everything else is left to Match.
func TestRecordCheck(t *testing.T) {
	verbatim := func(f string) bool { return strings.HasPrefix(f, "cef.extensions.") }
	rec := []byte(`CEF:0|Trend Micro|Deep Security Agent|10|1000|IPS|5|cs1=CVE-2021-44228 src=2001:DB8:0:0:0:0:0:1 dvchost=Web-01`)
	for q, want := range map[string]bool{
		`cef.extensions.deviceCustomString1:"CVE-2021-44228"`:           true,
		`cef.extensions.deviceCustomString1:"cve-2021-44228"`:           true, // case is ignored
		`cef.extensions.deviceCustomString1:"CVE-2022-22965"`:           false,
		`cef.extensions.deviceCustomString1:"CVE-2022-22965" OR web-01`: true, // the keyword is there
		`cef.extensions.sourceAddress:2001:db8::1`:                      true, // addresses are exempt
		`host.name:nowhere`: true, // not verbatim: may be derived
		`NOT cef.extensions.deviceCustomString1:"CVE-2022-22965"`: true,
		`cef.extensions.deviceCustomString1:CVE*`:                 true, // wildcards: no opinion
		`log4j`:  false,
		`web-01`: true,
	} {
		n, err := query.Parse(q)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		if got := newRecordCheck(n, verbatim).may(rec); got != want {
			t.Errorf("may(%q) = %v, want %v", q, got, want)
		}
	}
	// Escapes can hide a value from the raw text: such records pass.
	n, _ := query.Parse(`cef.extensions.deviceCustomString1:"a=b"`)
	if !newRecordCheck(n, verbatim).may([]byte(`CEF:0|a|b|c|d|e|5|cs1=a\=b`)) {
		t.Error("an escaped record was ruled out")
	}
}

// FuzzContainsFoldASCII compares the search with folding every byte and
// looking for the needle.
func FuzzContainsFoldASCII(f *testing.F) {
	f.Add([]byte("Failed PASSWORD for"), []byte("password"))
	f.Add([]byte("Pp pP ppassword"), []byte("pp"))
	f.Add([]byte("aaaaab"), []byte("ab"))
	f.Fuzz(func(t *testing.T, data, needle []byte) {
		lower := make([]byte, len(data))
		for i, c := range data {
			lower[i] = lowerASCII(c)
		}
		folded := make([]byte, len(needle))
		for i, c := range needle {
			folded[i] = lowerASCII(c)
		}
		if got, want := containsFoldASCII(data, folded), bytes.Contains(lower, folded); got != want {
			t.Fatalf("containsFoldASCII(%q, %q) = %v, want %v", data, folded, got, want)
		}
	})
}
