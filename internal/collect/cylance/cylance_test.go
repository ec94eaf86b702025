package cylance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/collecttest"
	"github.com/mamori-sec/mamori/internal/collect/poll"
	"github.com/mamori-sec/mamori/internal/dataset"
	dscylance "github.com/mamori-sec/mamori/internal/datasets/cylance"
	"github.com/mamori-sec/mamori/internal/intake"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

type harness struct {
	api   *fakeCylance
	sink  *collecttest.Sink
	clock *collecttest.Clock
	env   collect.Env
	cfg   Config
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{api: newFakeCylance(t), sink: &collecttest.Sink{}, clock: collecttest.NewClock(t0)}
	h.env = collecttest.Env(t, h.sink, h.clock)
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte(h.api.secret), 0o600); err != nil {
		t.Fatal(err)
	}
	h.cfg = Config{
		TenantID:        h.api.tenant,
		AppID:           h.api.app,
		AppSecretFile:   secretFile,
		Sources:         []string{"threats"},
		BaseURL:         h.api.srv.URL,
		InitialLookback: 2 * time.Hour,
		PageSize:        2,
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

// records returns every archived record's bytes, counting repeats across
// distinct archive objects.
func records(t *testing.T, sink *collecttest.Sink) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, b := range sink.Objects(t) {
		if b.Dataset != Dataset || b.Listener != "poll-cylance" {
			t.Errorf("batch %s: dataset %s listener %s", b.ID, b.Dataset, b.Listener)
		}
		for _, r := range b.Records {
			out[string(r.Data)]++
		}
	}
	return out
}

func wantExactly(t *testing.T, got map[string]int, want ...[]byte) {
	t.Helper()
	for _, w := range want {
		if got[string(w)] != 1 {
			t.Errorf("archived %d times, want once: %s", got[string(w)], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("archived %d distinct records, want %d", len(got), len(want))
		for r := range got {
			t.Logf("archived: %s", r)
		}
	}
}

func TestThreatsByLastFoundWindow(t *testing.T) {
	h := newHarness(t)
	// Window: [09:50, 11:50) (2h look-back, 10m lag).
	old := threatJSON("old.exe", "AA01", t0.Add(-3*time.Hour))
	a := threatJSON("a.exe", "AA02", t0.Add(-100*time.Minute))
	b := threatJSON("b.exe", "AA03", t0.Add(-30*time.Minute))
	c := threatJSON("c.exe", "AA04", t0.Add(-40*time.Minute))
	recent := threatJSON("recent.exe", "AA05", t0.Add(-5*time.Minute))
	h.api.setThreats(recent, b, old, a, c) // 3 pages of 2

	col := h.collector(t)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches := h.sink.Batches()
	if len(batches) != 1 {
		t.Fatalf("%d batches, want 1", len(batches))
	}
	// Ordered by last_found; each record the object's bytes as listed.
	var got []string
	for _, r := range batches[0].Records {
		got = append(got, string(r.Data))
		if !r.Received.Equal(t0.Add(-130 * time.Minute)) {
			t.Errorf("received %s, want the window start", r.Received)
		}
	}
	if want := []string{string(a), string(c), string(b)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("records\n%v\nwant\n%v", got, want)
	}
	if len(h.api.lists) != 3 || h.api.lists[2] != "/threats/v2?page=3&page_size=2" {
		t.Errorf("requests %v, want pages 1 to 3", h.api.lists)
	}

	// 20 minutes on: the recent threat is due, and b was found again.
	h.clock.Advance(20 * time.Minute)
	b2 := threatJSON("b.exe", "AA03", t0.Add(5*time.Minute))
	h.api.setThreats(recent, b2, old, a, c)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantExactly(t, records(t, h.sink), a, b, c, recent, b2)
	if cur := col.ThreatsCursor(); !cur.Next.Equal(t0.Add(10*time.Minute)) || cur.Open != nil {
		t.Errorf("cursor %+v", cur)
	}
}

func TestRecordsParseAsTheDataset(t *testing.T) {
	h := newHarness(t)
	h.cfg.Sources = []string{"threats", "devices"}
	h.api.setThreats(threatJSON("a.exe", "AA02", t0.Add(-time.Hour)))
	h.api.setDevices(deviceJSON(1), deviceJSON(2), deviceJSON(3))
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if dscylance.Name != Dataset {
		t.Fatalf("collector dataset %s, dataset package %s", Dataset, dscylance.Name)
	}
	ds := dscylance.New(dscylance.Options{})
	events := 0
	for _, b := range h.sink.Batches() {
		for _, r := range b.Records {
			evs, err := ds.Parser.Parse(datasetRecord(r))
			if err != nil {
				t.Errorf("%s: %v", b.ID, err)
			}
			events += len(evs)
		}
	}
	if events != 4 {
		t.Errorf("%d events parsed from the archive, want 4 (one threat, three devices)", events)
	}
}

func TestDeviceSnapshotOncePerInterval(t *testing.T) {
	h := newHarness(t)
	h.cfg.Sources = []string{"devices"}
	devs := [][]byte{deviceJSON(1), deviceJSON(2), deviceJSON(3)}
	h.api.setDevices(devs...)
	col := h.collector(t)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches := h.sink.Batches()
	if len(batches) != 2 {
		t.Fatalf("%d batches, want 2 pages", len(batches))
	}
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	for i, b := range batches {
		if len(b.Records) != 1 || !b.Records[0].Received.Equal(day) {
			t.Errorf("batch %d: %d records received %v, want one page at %s", i, len(b.Records), b.Records[0].Received, day)
		}
		if !bytes.HasPrefix(b.Records[0].Data, []byte(`{"page_number": `+fmt.Sprint(i+1))) {
			t.Errorf("batch %d is not page %d as received: %.60s", i, i+1, b.Records[0].Data)
		}
	}
	// Later the same day: no new snapshot.
	h.clock.Advance(6 * time.Hour)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.api.lists) != 2 {
		t.Errorf("%d list requests, want 2 (no second snapshot the same day)", len(h.api.lists))
	}
	// The next day: a new snapshot, under new IDs.
	h.clock.Advance(12 * time.Hour)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(h.sink.Objects(t)); n != 4 {
		t.Errorf("%d objects after two snapshots, want 4", n)
	}
}

func TestTokenRefreshAndLifetime(t *testing.T) {
	h := newHarness(t)
	h.cfg.TokenLifetime = 10 * time.Minute
	h.api.setThreats(threatJSON("a", "A1", t0.Add(-time.Hour)), threatJSON("b", "A2", t0.Add(-time.Hour)), threatJSON("c", "A3", t0.Add(-time.Hour)))
	col := h.collector(t)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.api.tokenCalls != 1 || h.api.lifetimes[0] != 600 {
		t.Fatalf("%d token requests, lifetimes %v; want one of 600s", h.api.tokenCalls, h.api.lifetimes)
	}
	// A revoked token is replaced once.
	h.api.expireTokens()
	h.clock.Advance(time.Minute)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.api.tokenCalls != 2 {
		t.Errorf("%d token requests after a 401, want 2", h.api.tokenCalls)
	}
	// Past its lifetime less the margin, a token is renewed before use.
	h.clock.Advance(9 * time.Minute)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.api.tokenCalls != 3 {
		t.Errorf("%d token requests after the lifetime, want 3", h.api.tokenCalls)
	}
}

func TestRetries(t *testing.T) {
	h := newHarness(t)
	a := threatJSON("a", "A1", t0.Add(-time.Hour))
	h.api.setThreats(a)
	h.api.queue(
		canned{status: 429, header: map[string]string{"Retry-After": "120"}},
		canned{status: 500, body: `{"message":"Internal server error"}`},
	)
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{2 * time.Minute, 1500 * time.Millisecond}
	if got := h.clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sleeps %v, want %v", got, want)
	}
	wantExactly(t, records(t, h.sink), a)
}

var errCrash = errors.New("simulated crash after the archive write")

func TestRestartAfterCrashNeitherSkipsNorRepeats(t *testing.T) {
	h := newHarness(t)
	var threats [][]byte
	for i := range 1500 { // two batches
		threats = append(threats, threatJSON(fmt.Sprintf("t%d.exe", i), fmt.Sprintf("%064X", i), t0.Add(-time.Hour+time.Duration(i)*time.Second)))
	}
	h.cfg.PageSize = 200
	h.api.setThreats(threats...)
	h.sink.Hook = func(n int, _ intake.Batch) error {
		if n == 1 {
			return errCrash
		}
		return nil
	}
	if err := h.collector(t).Poll(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("poll error %v, want the crash", err)
	}
	h.sink.Hook = nil
	h.clock.Advance(time.Hour)
	late := threatJSON("late.exe", "FF", t0.Add(30*time.Minute))
	h.api.setThreats(append(threats, late)...)
	col := h.collector(t)
	if err := col.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	wantExactly(t, records(t, h.sink), append(threats, late)...)
	if n := len(h.sink.Batches()) - len(h.sink.Objects(t)); n != 1 {
		t.Errorf("%d rewrites, want 1 (the batch archived before the crash)", n)
	}
}

func TestBadSecret(t *testing.T) {
	h := newHarness(t)
	h.api.setThreats(threatJSON("a", "A1", t0.Add(-time.Hour)))
	h.api.secret = "rotated"
	err := h.collector(t).Poll(context.Background())
	var herr *poll.HTTPError
	if !errors.As(err, &herr) || herr.Status != 401 || !strings.Contains(err.Error(), "Invalid signature on auth_token") {
		t.Fatalf("error %v, want the API's 401 message", err)
	}
	if len(h.api.lists) != 0 || len(h.sink.Batches()) != 0 {
		t.Error("listed or archived without a token")
	}
	if !h.collector(t).ThreatsCursor().Next.Equal(t0.Add(-130 * time.Minute)) {
		t.Error("the window was lost")
	}
}

func TestValidate(t *testing.T) {
	ok := Config{TenantID: "t", AppID: "a", AppSecretEnv: "S"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*Config){
		"no tenant":     func(c *Config) { c.TenantID = "" },
		"no app":        func(c *Config) { c.AppID = "" },
		"no secret":     func(c *Config) { c.AppSecretEnv = "" },
		"two secrets":   func(c *Config) { c.AppSecretFile = "/s" },
		"bad source":    func(c *Config) { c.Sources = []string{"events"} },
		"page size":     func(c *Config) { c.PageSize = 201 },
		"long token":    func(c *Config) { c.TokenLifetime = time.Hour },
		"tiny devices":  func(c *Config) { c.DeviceInterval = time.Second },
		"bad url":       func(c *Config) { c.BaseURL = "protectapi.cylance.com" },
		"negative lag":  func(c *Config) { c.Lag = -1 },
		"twice listed":  func(c *Config) { c.Sources = []string{"devices", "devices"} },
		"upper in name": func(c *Config) { c.Name = "Cylance" },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestParseTime(t *testing.T) {
	want := time.Date(2017, 3, 15, 23, 59, 55, 0, time.UTC)
	for _, s := range []string{"2017-03-15T23:59:55", "2017-03-15T23:59:55Z", "2017-03-16T00:59:55+01:00", "2017-03-15 23:59:55"} {
		if got, ok := parseTime(s); !ok || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %s, %v", s, got, ok)
		}
	}
	if got, ok := parseTime("2017-03-15T23:59:55.123"); !ok || got.Nanosecond() != 123e6 {
		t.Errorf("fractions: %s %v", got, ok)
	}
	for _, s := range []string{"", "yesterday", "2017-03-15"} {
		if _, ok := parseTime(s); ok {
			t.Errorf("parseTime(%q) accepted", s)
		}
	}
}

func datasetRecord(r intake.Record) dataset.Record {
	return dataset.Record{Data: r.Data, Received: r.Received, Peer: r.Peer}
}
