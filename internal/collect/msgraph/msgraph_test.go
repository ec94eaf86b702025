package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/collecttest"
	"github.com/mamori-sec/mamori/internal/collect/poll"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/azure"
	"github.com/mamori-sec/mamori/internal/intake"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

type harness struct {
	api   *fakeGraph
	sink  *collecttest.Sink
	clock *collecttest.Clock
	env   collect.Env
	cfg   Config
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{api: newFakeGraph(t), sink: &collecttest.Sink{}, clock: collecttest.NewClock(t0)}
	h.env = collecttest.Env(t, h.sink, h.clock)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(h.api.secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.cfg = Config{
		TenantID:         h.api.tenant,
		ClientID:         h.api.clientID,
		ClientSecretFile: secretFile,
		Sources:          []string{"signins"},
		BaseURL:          h.api.srv.URL,
		LoginURL:         h.api.srv.URL,
		InitialLookback:  time.Hour,
		PageSize:         2,
	}
	return h
}

func (h *harness) collector(t *testing.T) *Collector {
	t.Helper()
	c, err := New(h.cfg, h.env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func spread(list, prefix string, start time.Time, step time.Duration, n int) []entry {
	var out []entry
	for i := range n {
		out = append(out, entry{list: list, time: start.Add(time.Duration(i) * step), id: fmt.Sprintf("%s-%d", prefix, i)})
	}
	return out
}

// archivedIDs counts the entries of every archived object by id.
func archivedIDs(t *testing.T, sink *collecttest.Sink) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for k, b := range sink.Objects(t) {
		if len(b.Records) != 1 {
			t.Errorf("object %s has %d records, want one page", k, len(b.Records))
		}
		for _, r := range b.Records {
			var page struct {
				Context string `json:"@odata.context"`
				Value   []struct {
					ID string `json:"id"`
				} `json:"value"`
			}
			if err := json.Unmarshal(r.Data, &page); err != nil {
				t.Fatalf("object %s is not a Graph page: %v", k, err)
			}
			for _, v := range page.Value {
				ids[v.ID]++
			}
		}
	}
	return ids
}

func wantEachOnce(t *testing.T, got map[string]int, es []entry) {
	t.Helper()
	for _, e := range es {
		if got[e.id] != 1 {
			t.Errorf("entry %s archived %d times, want once", e.id, got[e.id])
		}
	}
	if len(got) != len(es) {
		t.Errorf("archived %d distinct entries, want %d", len(got), len(es))
	}
}

func TestPagingFollowsNextLinkVerbatim(t *testing.T) {
	h := newHarness(t)
	h.cfg.Sources = nil // both
	// Window [10:45, 11:45): 15m lag, 1h look-back.
	signins := spread("signIns", "s", t0.Add(-75*time.Minute), 11*time.Minute, 5) // 10:45 .. 11:29
	audits := spread("directoryAudits", "d", t0.Add(-60*time.Minute), 10*time.Minute, 3)
	recent := entry{list: "signIns", time: t0.Add(-14 * time.Minute), id: "recent"}
	h.api.add(signins...)
	h.api.add(audits...)
	h.api.add(recent)

	c := h.collector(t)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches := h.sink.Batches()
	// 5 sign-ins at 2 a page: 3 pages; 3 audits: 2 pages.
	if len(batches) != 5 {
		t.Fatalf("%d batches, want 5", len(batches))
	}
	for i, b := range batches {
		want := azure.SignInLogsName
		if i >= 3 {
			want = azure.AuditLogsName
		}
		if b.Dataset != want || b.Listener != "poll-msgraph" {
			t.Errorf("batch %d: dataset %s listener %s, want %s", i, b.Dataset, b.Listener, want)
		}
		if !b.Records[0].Received.Equal(t0.Add(-75 * time.Minute)) {
			t.Errorf("batch %d received %s, want the window start", i, b.Records[0].Received)
		}
	}
	wantEachOnce(t, archivedIDs(t, h.sink), append(signins, audits...))

	first := h.api.requests[0]
	wantFirst := "/v1.0/auditLogs/signIns?$filter=createdDateTime%20ge%202024-05-01T10%3A45%3A00Z%20and%20createdDateTime%20lt%202024-05-01T11%3A45%3A00Z&$top=2"
	if first != wantFirst {
		t.Errorf("first request\n %s\nwant\n %s", first, wantFirst)
	}
	if !strings.HasSuffix(h.api.requests[1], "&$skiptoken=skip%2B2") {
		t.Errorf("second request %s does not carry the next link's $skiptoken as written", h.api.requests[1])
	}
	if !strings.Contains(h.api.requests[3], "activityDateTime%20ge%20") {
		t.Errorf("directory audits request %s does not filter on activityDateTime", h.api.requests[3])
	}

	h.clock.Advance(5 * time.Minute)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantEachOnce(t, archivedIDs(t, h.sink), append(append(signins, audits...), recent))
}

func TestPagesParseAsTheirDatasets(t *testing.T) {
	h := newHarness(t)
	h.cfg.Sources = nil
	h.api.add(spread("signIns", "s", t0.Add(-70*time.Minute), 10*time.Minute, 3)...)
	h.api.add(spread("directoryAudits", "d", t0.Add(-70*time.Minute), 10*time.Minute, 2)...)
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	parsers := map[string]dataset.Dataset{}
	for _, ds := range azure.New(azure.Options{}) {
		parsers[ds.Name] = ds
	}
	events := 0
	for _, b := range h.sink.Batches() {
		ds, ok := parsers[b.Dataset]
		if !ok {
			t.Fatalf("batch %s: no dataset %s", b.ID, b.Dataset)
		}
		for _, r := range b.Records {
			evs, err := ds.Parser.Parse(dataset.Record{Data: r.Data, Received: r.Received})
			if err != nil {
				t.Errorf("%s: %v", b.ID, err)
			}
			events += len(evs)
		}
	}
	if events != 5 {
		t.Errorf("%d events parsed from the archived pages, want 5", events)
	}
}

func TestTokenRefreshedAfter401(t *testing.T) {
	h := newHarness(t)
	es := spread("signIns", "s", t0.Add(-70*time.Minute), 10*time.Minute, 5)
	h.api.add(es...)
	h.sink.Hook = func(n int, _ intake.Batch) error {
		if n == 1 {
			h.api.expireTokens()
		}
		return nil
	}
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.api.tokenCalls != 2 {
		t.Errorf("%d token requests, want 2", h.api.tokenCalls)
	}
	wantEachOnce(t, archivedIDs(t, h.sink), es)
}

func TestTokenRefusedTwiceIsAnError(t *testing.T) {
	h := newHarness(t)
	h.api.add(spread("signIns", "s", t0.Add(-70*time.Minute), 10*time.Minute, 1)...)
	// Every list request is refused, even with a fresh token.
	h.api.queue(
		canned{status: 401, body: `{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}`},
		canned{status: 401, body: `{"error":{"code":"InvalidAuthenticationToken","message":"Access token validation failure."}}`},
	)
	err := h.collector(t).Poll(context.Background())
	var herr *poll.HTTPError
	if !errors.As(err, &herr) || herr.Status != 401 || !strings.Contains(err.Error(), "Access token validation failure.") {
		t.Fatalf("error %v, want the 401 and its message", err)
	}
	if h.api.tokenCalls != 2 {
		t.Errorf("%d token requests, want 2 (one refresh only)", h.api.tokenCalls)
	}
}

func TestThrottlingAndServerErrors(t *testing.T) {
	h := newHarness(t)
	es := spread("signIns", "s", t0.Add(-70*time.Minute), 10*time.Minute, 3)
	h.api.add(es...)
	// Graph throttles with 429 and a Retry-After; here as an HTTP date 30s
	// after the (fake) now. Then a 502 and a 504.
	h.api.queue(
		canned{status: 429, header: map[string]string{"Retry-After": t0.Add(30 * time.Second).Format(http.TimeFormat)},
			body: `{"error":{"code":"TooManyRequests","message":"Too many requests"}}`},
		canned{status: 502, body: `<html>Bad Gateway</html>`},
		canned{status: 504, body: ``},
	)
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{30 * time.Second, 1500 * time.Millisecond, 3 * time.Second}
	if got := h.clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sleeps %v, want %v", got, want)
	}
	wantEachOnce(t, archivedIDs(t, h.sink), es)
}

var errCrash = errors.New("simulated crash after the archive write")

func TestRestartAfterCrashNeitherSkipsNorRepeats(t *testing.T) {
	h := newHarness(t)
	h.cfg.Sources = []string{"directory_audits"}
	es := spread("directoryAudits", "d", t0.Add(-75*time.Minute), 6*time.Minute, 9) // 5 pages
	h.api.add(es...)
	h.sink.Hook = func(n int, _ intake.Batch) error {
		if n == 3 {
			return errCrash
		}
		return nil
	}
	if err := h.collector(t).Poll(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("poll error %v, want the crash", err)
	}
	h.sink.Hook = nil
	h.clock.Advance(45 * time.Minute)
	more := spread("directoryAudits", "m", t0.Add(-10*time.Minute), 7*time.Minute, 3)
	h.api.add(more...)

	c := h.collector(t)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantEachOnce(t, archivedIDs(t, h.sink), append(es, more...))
	if n := len(h.sink.Batches()) - len(h.sink.Objects(t)); n != 3 {
		t.Errorf("%d rewrites, want 3 (the pages archived before the crash)", n)
	}
	if cur := c.Cursor("directory_audits"); cur.Open != nil || !cur.Next.Equal(t0.Add(30*time.Minute)) {
		t.Errorf("cursor %+v", cur)
	}
}

func TestBadSecret(t *testing.T) {
	h := newHarness(t)
	h.api.add(spread("signIns", "s", t0.Add(-70*time.Minute), 10*time.Minute, 1)...)
	h.api.secret = "another"
	err := h.collector(t).Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "invalid_client: AADSTS7000215: Invalid client secret provided.") {
		t.Fatalf("error %v, want the identity platform's message", err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error quotes the secret: %v", err)
	}
	if len(h.api.requests) != 0 || len(h.sink.Batches()) != 0 {
		t.Error("listed or archived without a token")
	}
}

func TestForeignNextLinkRefused(t *testing.T) {
	h := newHarness(t)
	h.api.nextLinkHost = "https://evil.example"
	h.api.add(spread("signIns", "s", t0.Add(-70*time.Minute), 10*time.Minute, 3)...)
	err := h.collector(t).Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "not following it") {
		t.Fatalf("error %v, want the next link refused", err)
	}
	if len(h.api.requests) != 1 {
		t.Errorf("%d requests, want only the first", len(h.api.requests))
	}
}

func TestSecretFromEnvironment(t *testing.T) {
	h := newHarness(t)
	t.Setenv("MAMORI_TEST_GRAPH_SECRET", h.api.secret)
	h.cfg.ClientSecretFile, h.cfg.ClientSecretEnv = "", "MAMORI_TEST_GRAPH_SECRET"
	h.api.add(spread("signIns", "s", t0.Add(-70*time.Minute), 10*time.Minute, 1)...)
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.sink.Batches()) != 1 {
		t.Errorf("%d batches", len(h.sink.Batches()))
	}
}

func TestValidate(t *testing.T) {
	ok := Config{TenantID: "contoso.onmicrosoft.com", ClientID: "c", ClientSecretEnv: "S"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"no tenant":    func(c *Config) { c.TenantID = "" },
		"path tenant":  func(c *Config) { c.TenantID = "a/../b" },
		"no client":    func(c *Config) { c.ClientID = "" },
		"no secret":    func(c *Config) { c.ClientSecretEnv = "" },
		"two secrets":  func(c *Config) { c.ClientSecretFile = "/s" },
		"bad source":   func(c *Config) { c.Sources = []string{"provisioning"} },
		"twice":        func(c *Config) { c.Sources = []string{"signins", "signins"} },
		"page size":    func(c *Config) { c.PageSize = -1 },
		"lookback":     func(c *Config) { c.InitialLookback = 31 * 24 * time.Hour },
		"bad base url": func(c *Config) { c.BaseURL = "graph.microsoft.com" },
		"negative lag": func(c *Config) { c.Lag = -time.Minute },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
