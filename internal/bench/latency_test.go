package bench

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/detect/builtin"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/notify"
)

func TestProbeInFindsOneProbeHostName(t *testing.T) {
	for _, c := range []struct {
		s    string
		want int
		ok   bool
	}{
		{"latency-probe-000012", 12, true},
		{"Eicar_test_file in /tmp/latency-probe-000012/eicar.com on latency-probe-000012: quarantine", 12, true},
		{"[HIGH] Deep Security IPS blocked: SMB RCE: latency-probe-004711, 198.51.100.23 (1 event)", 4711, true},
		{"latency-probe-0000123", 0, false}, // seven digits: not a probe's name
		{"latency-probe-12", 0, false},
		{"latency-probe-", 0, false},
		{"web-01", 0, false},
		{"latency-probe-000001 and latency-probe-000002", 0, false},
	} {
		got, ok := probeIn(c.s)
		if got != c.want || ok != c.ok {
			t.Errorf("probeIn(%q) = %d, %v; want %d, %v", c.s, got, ok, c.want, c.ok)
		}
	}
	if s := probeHost(42); s != "latency-probe-000042" {
		t.Errorf("probeHost(42) = %q", s)
	}
}

// TestPagerDutyStandInAnswersTheRealNotifier posts notifications with
// mamori's own PagerDuty notifier, so the stand-in is held to what the
// server really sends.
func TestPagerDutyStandInAnswersTheRealNotifier(t *testing.T) {
	var clock sync.Mutex
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	pd := newPagerDuty(func() time.Time { clock.Lock(); defer clock.Unlock(); return now })
	srv := httptest.NewServer(pd)
	defer srv.Close()
	n, err := notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: srv.URL + pagerDutyPath, RoutingKey: "k"}, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	send := func(kind alert.Kind, id string, group ...string) {
		t.Helper()
		a := alert.Alert{ID: id, RuleID: "mamori-deepsecurity-malware", Title: "Deep Security anti-malware: " + strings.Join(group, ", "),
			Severity: alert.High, Status: alert.Open, GroupKey: group, Summary: "Eicar_test_file in /tmp/x on " + group[0], EventCount: 1}
		if err := n.Notify(ctx, alert.Notification{ID: "n-" + id, Kind: kind, Alert: a}); err != nil {
			t.Fatalf("notify %s: %v", id, err)
		}
	}
	pd.expect(7, now.Add(-300*time.Millisecond))
	pd.expect(8, now.Add(-time.Second))
	pd.expect(9, now)
	send(alert.Trigger, "a7", probeHost(7), "Eicar_test_file")
	clock.Lock()
	now = now.Add(2 * time.Second)
	clock.Unlock()
	send(alert.Trigger, "a7", probeHost(7), "Eicar_test_file") // an update: the first arrival counts
	send(alert.Trigger, "a8", probeHost(8), "Eicar_test_file")
	send(alert.Trigger, "bg", "web-01", "Eicar_test_file") // an alert of no probe
	send(alert.Acknowledge, "a7", probeHost(7))

	lat, lost := pd.latencies()
	if len(lat) != 2 || lat[0] != 300*time.Millisecond || lat[1] != 3*time.Second || lost != 1 {
		t.Errorf("latencies %v, lost %d; want [300ms 3s] and probe 9 lost", lat, lost)
	}
	if p := pd.pending(); p != 1 {
		t.Errorf("pending %d, want 1", p)
	}
	if req, unmatched, invalid := pd.counts(); req != 5 || unmatched != 1 || invalid != 0 {
		t.Errorf("requests %d, unmatched %d, invalid %d; want 5, 1, 0", req, unmatched, invalid)
	}

	// PagerDuty's answers: 202 with the dedup key, 400 for an invalid event.
	resp, err := http.Post(srv.URL+pagerDutyPath, "application/json", strings.NewReader(
		`{"routing_key":"k","event_action":"trigger","dedup_key":"d1","payload":{"summary":"s","source":"h","severity":"info"}}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(string(body), `"status":"success"`) || !strings.Contains(string(body), `"dedup_key":"d1"`) {
		t.Errorf("valid event: %s %s", resp.Status, body)
	}
	for _, bad := range []string{`{"event_action":"trigger"}`, `{"routing_key":"k","event_action":"trigger"}`, `not json`,
		`{"routing_key":"k","event_action":"explode","dedup_key":"d"}`} {
		resp, err := http.Post(srv.URL+pagerDutyPath, "application/json", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"invalid event"`) {
			t.Errorf("%s: %s %s", bad, resp.Status, body)
		}
	}
	if _, _, invalid := pd.counts(); invalid != 4 {
		t.Errorf("invalid %d, want 4", invalid)
	}
}

func TestLatencyStatsCountLostProbesAsSlowest(t *testing.T) {
	var lat []time.Duration
	for i := 20; i >= 1; i-- { // any order
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	s := latencyStats(lat, 0)
	if s.Probes != 20 || *s.P50MS != 10 || *s.P95MS != 19 || *s.MaxMS != 20 || *s.MinMS != 1 || len(s.EachMS) != 20 || s.EachMS[0] != 20 {
		t.Errorf("20 probes of 1..20 ms: %+v", s)
	}
	// Two of twenty lost: the 95th percentile (the 19th value) is one of them.
	s = latencyStats(lat[2:], 2)
	if s.Probes != 20 || s.Lost != 2 || *s.P50MS != 10 || s.P95MS != nil || s.MaxMS != nil || *s.MinMS != 1 {
		t.Errorf("18 of 20 probes notified: %+v", s)
	}
	s = latencyStats([]time.Duration{1500 * time.Microsecond}, 0)
	if *s.P50MS != 1.5 || *s.P95MS != 1.5 || *s.MaxMS != 1.5 {
		t.Errorf("one probe: %+v", s)
	}
	if s := latencyStats(nil, 3); s.Probes != 3 || s.P50MS != nil || s.MinMS != nil {
		t.Errorf("every probe lost: %+v", s)
	}
}

// TestBackgroundRaisesNothingAndProbesAlertAtOnce runs the built-in rules,
// as the server loads them by default, over the background and the
// probes: the background raises no alert (one engine over all of it, so
// thresholds and correlations count across it), and each probe raises
// its rule's alert by itself, grouped by its own host.
func TestBackgroundRaisesNothingAndProbesAlertAtOnce(t *testing.T) {
	set, err := builtin.Rules(builtin.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := builtin.NewEngines(set, nil)
	if err != nil {
		t.Fatal(err)
	}
	end := time.Now().UTC().Truncate(time.Second)
	reg := datasets.Builtin(datasets.Options{})
	pool, err := quietLines(30000, end, 7)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	var batch []*event.Event
	for i, line := range pool {
		if !quiet(line) {
			t.Fatalf("pool line %d is not quiet: %s", i, line)
		}
		evs, problem := builtin.Normalize(reg, line, "raw/bench/background", int64(i), end)
		if problem != "" {
			t.Fatalf("background line %d: %s: %s", i, problem, line)
		}
		for _, e := range evs {
			kinds[e.String(event.FieldDataset)]++
		}
		batch = append(batch, evs...)
		if len(batch) >= 1000 || i == len(pool)-1 {
			for _, m := range eng.Evaluate(batch) {
				t.Errorf("background matched %s: %s", m.Rule.ID, m.Event.String(event.FieldOriginal))
			}
			batch = batch[:0]
		}
	}
	if kinds["trendmicro.deepsecurity"] < len(pool)/3 || kinds["linux.syslog"] < len(pool)/5 {
		t.Errorf("background datasets %v: want Deep Security CEF and Linux syslog", kinds)
	}

	for seq := range 6 {
		line := probeLine(nil, seq, end)
		if quiet(line) {
			t.Errorf("probe %d counts as quiet", seq)
		}
		evs, problem := builtin.Normalize(reg, line, "raw/bench/probe", int64(seq), end)
		if problem != "" {
			t.Fatalf("probe %d: %s: %s", seq, problem, line)
		}
		ms := eng.Evaluate(evs)
		if len(ms) != 1 || ms[0].Rule.ID != probeRules[seq%2] {
			t.Fatalf("probe %d matched %d rules (%v), want %s alone", seq, len(ms), ms, probeRules[seq%2])
		}
		var group []string
		for _, g := range ms[0].GroupBy {
			group = append(group, g.Value)
		}
		if got, ok := probeIn(strings.Join(group, ", ")); !ok || got != seq {
			t.Errorf("probe %d: group key %v does not name it", seq, group)
		}
		if got, ok := probeIn(ms[0].Summary); !ok || got != seq {
			t.Errorf("probe %d: summary %q does not name it", seq, ms[0].Summary)
		}
	}
}

func TestPaceLinesSendsWholeFramesFromThePool(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	pool := [][]byte{[]byte("<13>one"), []byte("<13>two with spaces"), []byte("<13>three 3 3")}
	known := map[string]bool{}
	for _, l := range pool {
		known[string(l)] = true
	}
	var mu sync.Mutex
	received := 0
	var bad []string
	var wg sync.WaitGroup
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					n, err := r.ReadString(' ')
					if err != nil {
						return
					}
					size, err := strconv.Atoi(strings.TrimSuffix(n, " "))
					buf := make([]byte, max(size, 0))
					if err == nil {
						_, err = io.ReadFull(r, buf)
					}
					mu.Lock()
					if err != nil || !known[string(buf)] {
						bad = append(bad, n+string(buf))
					} else {
						received++
					}
					mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	sent, err := paceLines(context.Background(), ln.Addr().String(), pool, 2, 2000, 150*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if sent == 0 || int64(received) != sent || len(bad) > 0 {
		t.Errorf("sent %d, received %d whole pool lines; bad frames %q", sent, received, bad)
	}
	if _, err := paceLines(context.Background(), ln.Addr().String(), nil, 2, 10, time.Millisecond); err == nil {
		t.Error("an empty pool was paced")
	}
}

func TestLatencyConfigLoadsWithOnePagerDutyNotifier(t *testing.T) {
	dir := t.TempDir()
	path, err := writeLatencyConfig(dir, "http://127.0.0.1:9/v2/enqueue")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir = filepath.Join(dir, "data")
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	ns := cfg.Alerts.Notifiers
	if len(ns) != 1 || ns[0].Type != alert.TypePagerDuty || ns[0].URL != "http://127.0.0.1:9/v2/enqueue" || !cfg.Rules.BuiltinOn() {
		t.Fatalf("notifiers %+v, built-in rules %v", ns, cfg.Rules.BuiltinOn())
	}
	for _, id := range probeRules {
		if !cfg.Alerts.RuleStorms[id].Off {
			t.Errorf("the storm guard is on for probe rule %s: %+v", id, cfg.Alerts.RuleStorms)
		}
	}
	if key, err := ns[0].RoutingKey.Value(); err != nil || key == "" {
		t.Errorf("routing key %q, %v", key, err)
	}
}
