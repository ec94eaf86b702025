package api

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/console"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/search"
	"github.com/mamori-sec/mamori/internal/search/searchtest"
)

var ingestAt = time.Date(2026, 11, 20, 1, 0, 0, 0, time.UTC)

// consoleLines are 40 sshd lines a minute apart from 00:00 (hosts web-00
// to web-03 in turn, alice one user in ten), a Deep Security CEF line and
// an application line, all mentioning needle or 203.0.113.9.
func consoleLines() []string {
	return append(searchtest.SSHDLines(),
		"<134>Nov 20 00:41:00 dsa-01 CEF:0|Trend Micro|Deep Security Agent|20.0.1|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset src=203.0.113.9 dst=10.0.0.5 proto=TCP spt=44521 dpt=22 msg=needle",
		"<13>Nov 20 00:42:00 app-01 myapp: needle seen from 203.0.113.9")
}

// consoleServer stores the lines (syslog) and two CloudTrail records that
// do not parse, processed at ingestAt, and serves the API over them.
func consoleServer(t *testing.T, now time.Time, access *search.Access) (*Server, *httptest.Server) {
	t.Helper()
	reg := datasets.Builtin(datasets.Options{})
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	st := searchtest.Load(t, searchtest.Options{Datasets: reg, Index: search.IndexBlock, Created: t0, Now: ingestAt, BatchRecords: 7, BlockRecords: 3},
		searchtest.Object{Key: "raw/syslog/2026/11/20/00/a.ndjson.zst", Dataset: "syslog",
			Records: searchtest.Records(consoleLines(), t0, time.Minute, "")},
		searchtest.Object{Key: "raw/aws.cloudtrail/2026/11/20/00/b.ndjson.zst", Dataset: "aws.cloudtrail",
			Records: searchtest.Records([]string{"not json at all", "{broken"}, t0, 0, "")})
	m := metrics.New()
	s := &Server{Datasets: reg, Searcher: search.New(st, reg, m), Metrics: m,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }, Version: "test"}
	h := s.Handler()
	// As the access middleware does: the reader's grants ride in the
	// request's context.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(search.WithAccess(r.Context(), access)))
	}))
	t.Cleanup(srv.Close)
	return s, srv
}

func getJSON(t *testing.T, u string, v any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			t.Fatalf("%s: %d %s: %v", u, resp.StatusCode, body, err)
		}
	}
	return resp.StatusCode
}

func TestHistogramEndpoint(t *testing.T) {
	_, srv := consoleServer(t, ingestAt, nil)
	var h HistogramResponse
	q := url.Values{"q": {"host.name:web-01"}, "from": {"2026-11-20T00:00:00Z"}, "to": {"2026-11-20T01:00:00Z"}, "buckets": {"6"}}
	if code := getJSON(t, srv.URL+"/api/v1/histogram?"+q.Encode(), &h); code != 200 {
		t.Fatalf("status %d", code)
	}
	var total int64
	for _, b := range h.Buckets {
		total += b.Count
	}
	var sr SearchResponse
	getJSON(t, srv.URL+"/api/v1/search?"+url.Values{"q": {"host.name:web-01"}, "count": {"exact"}}.Encode(), &sr)
	if h.Interval != "10m" || h.IntervalMS != 600000 || len(h.Buckets) != 6 || !h.Exact || sr.Total == nil || total != *sr.Total || total != 10 {
		t.Fatalf("histogram %+v (total %d), search total %v", h, total, sr.Total)
	}
	// since is counted back from now, and the range ends now.
	getJSON(t, srv.URL+"/api/v1/histogram?since=2h", &h)
	if !h.To.Equal(ingestAt) || !h.From.Equal(ingestAt.Add(-2*time.Hour)) || h.Interval != "2m" {
		t.Fatalf("since=2h: %s – %s, %s", h.From, h.To, h.Interval)
	}
	var e errorBody
	if code := getJSON(t, srv.URL+"/api/v1/histogram?q="+url.QueryEscape("user.name:(alice"), &e); code != 400 || e.Position == nil || *e.Position == 0 {
		t.Fatalf("bad query: %d %+v", code, e)
	}
	// A wide range still makes at most the buckets asked for.
	if code := getJSON(t, srv.URL+"/api/v1/histogram?from=1950-01-01&to=2099-12-31&buckets=1000", &h); code != 200 || len(h.Buckets) > 1001 || len(h.Buckets) < 100 {
		t.Fatalf("from 1950 to 2099: %d, %d buckets of %s", code, len(h.Buckets), h.Interval)
	}
	for _, bad := range []string{"buckets=0", "buckets=x", "since=yesterday", "from=now&to=now-1h", "from=0001-01-01&to=9999-12-31"} {
		if code := getJSON(t, srv.URL+"/api/v1/histogram?"+bad, nil); code != 400 {
			t.Errorf("%s: status %d, want 400", bad, code)
		}
	}
}

func TestFacetsEndpoint(t *testing.T) {
	_, srv := consoleServer(t, ingestAt, nil)
	var f FacetsResponse
	if code := getJSON(t, srv.URL+"/api/v1/facets?q="+url.QueryEscape("process.name:sshd"), &f); code != 200 {
		t.Fatalf("status %d", code)
	}
	if f.Sampled || len(f.Facets) != len(search.DefaultFacetFields) {
		t.Fatalf("facets %+v", f)
	}
	for _, x := range f.Facets {
		if x.Field == "host.name" && fmt.Sprint(x.Values) != "[{web-00 10} {web-01 10} {web-02 10} {web-03 10}]" {
			t.Errorf("host.name = %v", x.Values)
		}
		if x.Field == "event.dataset" && fmt.Sprint(x.Values) != "[{linux.syslog 40}]" {
			t.Errorf("event.dataset = %v", x.Values)
		}
	}
	getJSON(t, srv.URL+"/api/v1/facets?q=needle&fields=event.dataset,host.name&size=1&sample=1", &f)
	if !f.Sampled || f.SampleSize != 1 || len(f.Facets) != 2 || len(f.Facets[0].Values) != 1 || !f.Facets[0].Sampled {
		t.Fatalf("keyword facets %+v", f)
	}
	if code := getJSON(t, srv.URL+"/api/v1/facets?size=1000", nil); code != 400 {
		t.Fatalf("size=1000: %d", code)
	}
}

func TestSourcesEndpoint(t *testing.T) {
	now := ingestAt.Add(30 * time.Second)
	s, srv := consoleServer(t, now, nil)
	s.Sources = NewSources(s.Metrics, func(ds string) time.Duration {
		if ds == "aws.cloudtrail" {
			return 10 * time.Second
		}
		return time.Hour
	}, func() time.Time { return now })
	s.Metrics.RecordsReceived.WithLabelValues("syslog", "syslog-udp").Add(42)
	var out SourcesResponse
	if code := getJSON(t, srv.URL+"/api/v1/sources", &out); code != 200 {
		t.Fatalf("status %d", code)
	}
	got := map[string]DatasetSource{}
	for _, d := range out.Datasets {
		got[d.Dataset] = d
	}
	ct, ls := got["aws.cloudtrail"], got["linux.syslog"]
	if ct.Events != 2 || ct.Failures != 2 || ct.FailuresLastHour != 2 || len(ct.FailureExamples) != 2 || !ct.Stale || ct.StaleAfter != "10s" {
		t.Errorf("cloudtrail = %+v", ct)
	}
	originals := map[string]bool{}
	for _, x := range ct.FailureExamples {
		originals[x.Original] = x.Error != ""
	}
	if !originals["not json at all"] || !originals["{broken"] {
		t.Errorf("failure examples = %+v", ct.FailureExamples)
	}
	if ls.Events != 40 || ls.EventsLastMinute != 40 || ls.PerSecond1m != 40.0/60 || ls.Stale || ls.Failures != 0 ||
		!ls.LastIngested.Equal(ingestAt) || !ls.LastTimestamp.Equal(time.Date(2026, 11, 20, 0, 39, 0, 0, time.UTC)) {
		t.Errorf("linux.syslog = %+v", ls)
	}
	if len(out.Listeners) != 1 || out.Listeners[0].Listener != "syslog-udp" || out.Listeners[0].Records != 42 {
		t.Errorf("listeners = %+v", out.Listeners)
	}
}

func TestListenerRates(t *testing.T) {
	m := metrics.New()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	now := t0
	src := NewSources(m, nil, func() time.Time { return now })
	c := m.RecordsReceived.WithLabelValues("syslog", "syslog-tcp")
	src.Sample()
	c.Add(120)
	now = t0.Add(30 * time.Second)
	src.Sample()
	c.Add(60)
	now = t0.Add(60 * time.Second)
	ls := src.listeners(now)
	if len(ls) != 1 {
		t.Fatalf("listeners = %+v", ls)
	}
	l := ls[0]
	if l.Records != 180 || l.PerSecond1m == nil || *l.PerSecond1m != 3 || l.Window1mS != 60 ||
		l.PerSecond1h == nil || *l.PerSecond1h != 3 || l.LastRecord == nil || !l.LastRecord.Equal(now) {
		t.Fatalf("listener = %+v", l)
	}
	// An hour on, without records, the minute's rate is 0 and samples
	// older than the hour are gone but for the hour's base.
	for i := 2; i <= 130; i++ {
		now = t0.Add(time.Duration(i) * 30 * time.Second)
		src.Sample()
	}
	l = src.listeners(now)[0]
	if *l.PerSecond1m != 0 || *l.PerSecond1h != 0 || l.LastRecord == nil || !l.LastRecord.Equal(t0.Add(time.Minute)) {
		t.Fatalf("idle listener = %+v (last %v)", l, l.LastRecord)
	}
	if n := len(src.samples); n > 122 {
		t.Fatalf("%d samples kept for an hour at 30 s", n)
	}
}

// TestReadEndpointsHonourAccess: a reader denied a dataset sees none of
// its events counted in a histogram, none of its values in a facet, and
// no row of it among the sources.
func TestReadEndpointsHonourAccess(t *testing.T) {
	deny := &search.Access{Deny: []string{"trendmicro.*", "aws.*"}}
	s, srv := consoleServer(t, ingestAt, deny)
	s.Metrics.RecordsReceived.WithLabelValues("aws.cloudtrail", "http").Add(2)
	for _, q := range []string{"", "needle", "203.0.113.9", "event.dataset:trendmicro.deepsecurity"} {
		var h HistogramResponse
		getJSON(t, srv.URL+"/api/v1/histogram?buckets=60&from=2026-11-20T00:00:00Z&to=2026-11-20T01:00:00Z&q="+url.QueryEscape(q), &h)
		// The CEF line is the only event at 00:41.
		if len(h.Buckets) != 60 || h.Buckets[41].Count != 0 {
			t.Errorf("%q: histogram %+v", q, h.Buckets)
		}
		var f FacetsResponse
		getJSON(t, srv.URL+"/api/v1/facets?fields=event.dataset,host.name,event.action&q="+url.QueryEscape(q), &f)
		for _, x := range f.Facets {
			for _, v := range x.Values {
				if strings.HasPrefix(v.Value, "trendmicro") || strings.HasPrefix(v.Value, "aws") || v.Value == "dsa-01" || v.Value == "Reset" {
					t.Errorf("%q: facet %s shows %s", q, x.Field, v.Value)
				}
			}
		}
	}
	var out SourcesResponse
	getJSON(t, srv.URL+"/api/v1/sources", &out)
	for _, d := range out.Datasets {
		if !deny.Sees(d.Dataset) {
			t.Errorf("sources list %s", d.Dataset)
		}
	}
	for _, l := range out.Listeners {
		if !deny.Sees(l.Dataset) {
			t.Errorf("sources list listener %s of %s", l.Listener, l.Dataset)
		}
	}
	if len(out.Datasets) != 2 {
		t.Errorf("visible datasets = %+v, want linux.syslog and syslog", out.Datasets)
	}
}

func TestConsolePages(t *testing.T) {
	_, srv := consoleServer(t, ingestAt, nil)
	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	for _, p := range []string{"/", "/search?q=alice", "/alerts", "/alerts/01JD3M4X", "/sources", "/login?next=/alerts"} {
		resp, body := get(p)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			resp.Header.Get("Content-Security-Policy") != console.ContentSecurityPolicy ||
			!strings.Contains(body, `<script type="module" src="/assets/app.js"></script>`) {
			t.Errorf("%s: %d %v", p, resp.StatusCode, resp.Header)
		}
	}
	resp, body := get("/assets/app.js")
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") ||
		resp.Header.Get("Content-Security-Policy") == "" || !strings.Contains(body, "import") {
		t.Errorf("app.js: %d %v", resp.StatusCode, resp.Header)
	}
	for _, p := range []string{"/assets/nope.js", "/assets/", "/nosuch", "/assets/../index.html"} {
		if resp, _ := get(p); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, _ := get("/api/v1/health"); resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != "" {
		t.Errorf("the API is not a console page: %d %v", resp.StatusCode, resp.Header)
	}
}

// TestStaleListener: a listener that stopped receiving for its dataset's
// stale time is flagged; one still receiving is not.
func TestStaleListener(t *testing.T) {
	m := metrics.New()
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	now := t0
	src := NewSources(m, func(string) time.Duration { return 10 * time.Minute }, func() time.Time { return now })
	quiet := m.RecordsReceived.WithLabelValues("syslog", "syslog-udp")
	busy := m.RecordsReceived.WithLabelValues("syslog", "syslog-tcp")
	quiet.Add(5)
	busy.Add(5)
	for i := 1; i <= 30; i++ {
		now = t0.Add(time.Duration(i) * time.Minute)
		busy.Add(1)
		src.Sample()
		if i == 5 {
			quiet.Add(1) // its last record, 25 minutes before the end
		}
	}
	got := map[string]ListenerSource{}
	for _, l := range src.listeners(now) {
		got[l.Listener] = l
	}
	if l := got["syslog-udp"]; !l.Stale || l.StaleAfter != "10m" {
		t.Errorf("quiet listener %+v, want stale after 10m", l)
	}
	if l := got["syslog-tcp"]; l.Stale {
		t.Errorf("busy listener flagged stale: %+v", l)
	}
}
