package bench

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildMamori builds the mamori binary: the bench runs the real server as
// a child process of the binary it is part of.
func buildMamori(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "mamori")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/mamori").CombinedOutput()
	if err != nil {
		t.Fatalf("build mamori: %v\n%s", err, out)
	}
	return bin
}

func runBench(t *testing.T, bin string, args ...string) Report {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"bench", "--json"}, args...)...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("mamori bench %v: %v\n%s", args, err, errOut.String())
	}
	var r Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("decode report: %v\n%s", err, out.String())
	}
	return r
}

func queryHits(t *testing.T, r Report, name string) int64 {
	t.Helper()
	for _, q := range r.Queries {
		if q.Name == name {
			return q.Hits
		}
	}
	t.Fatalf("no query %q in the report", name)
	return 0
}

// TestBenchSmoke runs a small benchmark end to end through the real server
// and checks that every event was stored and that the searches find what
// was planted, as the rg reference does; then reruns the queries on the
// kept directory with --skip-load.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds mamori and runs a server")
	}
	bin := buildMamori(t)
	dir := filepath.Join(t.TempDir(), "work")
	const events = 20000
	r := runBench(t, bin, "--events", "20000", "--query-runs", "2", "--ref-runs", "1", "--dir", dir)

	m := r.Manifest
	if m == nil || m.Events != events || m.LineEvents+m.JSONEvents != events {
		t.Fatalf("manifest %+v", m)
	}
	if r.StoredEvents != events || r.FailedEvents != 0 {
		t.Errorf("stored %d events, %d failed; want %d, 0", r.StoredEvents, r.FailedEvents, events)
	}
	if len(r.Load) != 2 {
		t.Fatalf("load phases: %+v", r.Load)
	}
	var loaded int64
	for _, ph := range r.Load {
		loaded += ph.Events
		if ph.EventsPerS <= 0 || ph.WireBytes <= 0 || ph.Seconds < ph.SendSeconds {
			t.Errorf("phase %+v", ph)
		}
	}
	if loaded != events {
		t.Errorf("phases loaded %d events, want %d", loaded, events)
	}
	if r.PeakRSSLoad <= 0 || r.PeakRSSQueries <= 0 {
		t.Errorf("peak RSS load %d, queries %d", r.PeakRSSLoad, r.PeakRSSQueries)
	}
	if d := r.Disk; d == nil || d.ArchiveBytes <= 0 || d.StoreBytes <= 0 || d.RawBytes != m.TotalRawBytes() {
		t.Errorf("disk %+v", r.Disk)
	}

	p := m.Planted
	want := map[string]int64{
		// CEF and the sshd lines map the address to source.ip and the user
		// to related.user; the CloudTrail-like JSON does not.
		"IP on a promoted column":              int64(p.IP["cef"] + p.IP["syslog"]),
		"user in related.user (promoted list)": int64(p.User["cef"] + p.User["syslog"]),
		"rare keyword":                         int64(total(p.Token)),
		"rare keyword, no count":               int64(total(p.Token)),
		"IP as a keyword":                      int64(total(p.IP)),
	}
	for name, n := range want {
		if got := queryHits(t, r, name); got != n || n == 0 {
			t.Errorf("%s: %d hits, want %d", name, got, n)
		}
	}
	if n := queryHits(t, r, "last hour, everything"); n <= 0 || n > events/(30*24)+2 {
		t.Errorf("last hour: %d events, want about %d", n, events/(30*24))
	}
	for _, q := range r.Queries {
		if q.Runs != 2 || q.Wall.Min <= 0 || q.Wall.Min > q.Wall.Median || q.Wall.Median > q.Wall.Max {
			t.Errorf("query %q timings %+v over %d runs", q.Name, q.Wall, q.Runs)
		}
	}

	if r.Reference.Skipped != "" {
		t.Logf("reference skipped: %s", r.Reference.Skipped)
	} else {
		lines := map[string]int64{}
		for _, x := range r.Reference.Results {
			lines[x.Needle] = x.Lines
		}
		for _, needle := range []string{m.Needles.IP, m.Needles.User, m.Needles.Token} {
			if lines[needle] != int64(m.Needles.Each) {
				t.Errorf("rg finds %q in %d lines, want %d", needle, lines[needle], m.Needles.Each)
			}
		}
		// mamori and the brute-force reference agree where they search the
		// same thing.
		if got, ref := queryHits(t, r, "common keyword"), lines[commonWord]; got != ref || got == 0 {
			t.Errorf("common keyword: mamori %d hits, rg %d lines", got, ref)
		}
		if got, ref := queryHits(t, r, "vendor field, not promoted"), lines["cs1="+vendorFieldValue]; got != ref || got == 0 {
			t.Errorf("vendor field: mamori %d hits, rg %d lines", got, ref)
		}
	}
	if len(r.Targets) == 0 {
		t.Error("no targets in the report")
	}

	again := runBench(t, bin, "--skip-load", "--query-runs", "1", "--ref-runs", "1", "--dir", dir)
	if len(again.Load) != 0 || again.Manifest == nil || again.Manifest.Seed != m.Seed {
		t.Errorf("--skip-load loaded again or lost the manifest: load %+v", again.Load)
	}
	for name, n := range want {
		if got := queryHits(t, again, name); got != n {
			t.Errorf("--skip-load: %s: %d hits, want %d", name, got, n)
		}
	}
}

// TestBenchTextReport checks that the plain-text report carries the
// figures a reader pastes into docs/benchmarks.md.
func TestBenchTextReport(t *testing.T) {
	r := &Report{Command: "mamori bench --events 1000", Machine: Machine{Cores: 2, CPU: "test CPU"},
		Manifest: &Manifest{Events: 1000, Days: 30, Mix: "cef=100", Counts: map[string]int64{"cef": 1000},
			RawBytes: map[string]int64{"cef": 400000}, Needles: DefaultNeedles},
		Load:      []LoadPhase{{Name: "cef+syslog lines", Transport: "syslog TCP", Events: 1000, Seconds: 0.5, EventsPerS: 2000}},
		Disk:      &Disk{RawBytes: 400000, ArchiveBytes: 40000, StoreBytes: 80000, Ratio: 0.3},
		Queries:   []QueryResult{{QuerySpec: QuerySpec{Name: "rare keyword", Class: classKeyword, Query: "Xq7vRz2KpL", Count: true}, Hits: 10, Runs: 3, Wall: Stats{1, 2, 3}, GoalMs: 300, Met: true}},
		Reference: Reference{Command: RefCommand, Results: []RefResult{{Needle: "Xq7vRz2KpL", Lines: 10, Runs: 3, Wall: Stats{5, 6, 7}}}},
	}
	r.Targets = targets(r)
	var b bytes.Buffer
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"mamori bench --events 1000", "2 cores (test CPU)", "2,000", "0.300 x raw", "Xq7vRz2KpL", RefCommand,
		">= 50,000 events/s", "NOT met"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -50000: "-50,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSummarise(t *testing.T) {
	if s := summarise([]float64{5, 1, 3}); s != (Stats{1, 3, 5}) {
		t.Errorf("odd: %+v", s)
	}
	if s := summarise([]float64{4, 1, 2, 3}); s != (Stats{1, 2.5, 4}) {
		t.Errorf("even: %+v", s)
	}
}

func TestSumMetric(t *testing.T) {
	text := `# HELP mamori_events_stored_total events
mamori_events_stored_total{dataset="cef"} 1200
mamori_events_stored_total{dataset="json"} 34
mamori_events_stored_total_other 99
mamori_events_failed_total{dataset="cef"} 1
`
	got, err := sumMetric(strings.NewReader(text), "mamori_events_stored_total")
	if err != nil || got != 1234 {
		t.Errorf("sumMetric = %v, %v; want 1234", got, err)
	}
}
