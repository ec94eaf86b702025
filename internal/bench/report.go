package bench

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is everything a run measured.
type Report struct {
	Command  string    `json:"command"`
	Machine  Machine   `json:"machine"`
	Started  time.Time `json:"started"`
	Dir      string    `json:"dir"`
	Kept     bool      `json:"kept"`
	Manifest *Manifest `json:"data"`

	// Load is empty when the run reused loaded data (--skip-load).
	Load         []LoadPhase `json:"load,omitempty"`
	StoredEvents int64       `json:"stored_events,omitempty"`
	FailedEvents int64       `json:"failed_events,omitempty"`
	PeakRSSLoad  int64       `json:"peak_rss_load_bytes,omitempty"`

	Disk           *Disk         `json:"disk"`
	Queries        []QueryResult `json:"queries"`
	PeakRSSQueries int64         `json:"peak_rss_queries_bytes"`
	Reference      Reference     `json:"reference"`
	Targets        []Target      `json:"targets"`
	Notes          []string      `json:"notes,omitempty"`
}

// Target compares a figure with the goal for it.
type Target struct {
	Name  string `json:"name"`
	Goal  string `json:"goal"`
	Value string `json:"value"`
	Met   bool   `json:"met"`
}

func targets(r *Report) []Target {
	var ts []Target
	for _, ph := range r.Load {
		switch ph.Name {
		case "cef+syslog lines":
			ts = append(ts, Target{"syslog/CEF lines, end to end", ">= 50,000 events/s",
				thousands(int64(ph.EventsPerS)) + " events/s", ph.EventsPerS >= 50000})
		case "json records":
			ts = append(ts, Target{"1 KB JSON over HTTP, end to end", ">= 20,000 events/s",
				thousands(int64(ph.EventsPerS)) + " events/s", ph.EventsPerS >= 20000})
		}
	}
	if r.PeakRSSLoad > 0 {
		ts = append(ts, Target{"server peak RSS while loading", "<= 1 GiB", mib(r.PeakRSSLoad), r.PeakRSSLoad <= 1<<30})
	}
	if r.Disk != nil && r.Disk.RawBytes > 0 {
		ts = append(ts, Target{"archive + store on disk", "<= 0.35 x raw", fmt.Sprintf("%.3f x raw", r.Disk.Ratio), r.Disk.Ratio <= 0.35})
	}
	for _, c := range []struct{ class, name string }{
		{classField, "field:value, slowest median"},
		{classKeyword, "bare keyword, slowest median"},
		{classLastHour, "last hour, slowest median"},
	} {
		worst, which := -1.0, ""
		for _, q := range r.Queries {
			if q.Class == c.class && q.Wall.Median > worst {
				worst, which = q.Wall.Median, q.Name
			}
		}
		if worst >= 0 {
			goal := classGoalMs[c.class]
			ts = append(ts, Target{c.name, fmt.Sprintf("<= %g ms", goal), fmt.Sprintf("%.1f ms (%s)", worst, which), worst <= goal})
		}
	}
	return ts
}

// WriteText writes the report as plain-text tables.
func (r *Report) WriteText(w io.Writer) error {
	p := &printer{w: w}
	m := r.Manifest
	p.f("mamori bench, %s\n", r.Started.Format("2006-01-02 15:04 MST"))
	p.f("command:  %s\n", r.Command)
	p.f("machine:  %d cores (%s), %s RAM, %s, %s\n", r.Machine.Cores, orUnknown(r.Machine.CPU), gib(r.Machine.MemBytes), r.Machine.OS, r.Machine.GoVersion)
	if m != nil {
		p.f("data:     %s events over %d days (%s), seed %d, %s raw, generated in %.1f s\n",
			thousands(m.Events), m.Days, m.Mix, m.Seed, mb(m.TotalRawBytes()), m.GenerateSeconds)
		p.f("          per kind: %s\n", perKind(m))
		p.f("needles:  ip %s in %s, user %s in %s, token %s in %s\n",
			m.Needles.IP, plantedText(m.Planted.IP), m.Needles.User, plantedText(m.Planted.User), m.Needles.Token, plantedText(m.Planted.Token))
	}
	p.f("work dir: %s%s\n", r.Dir, map[bool]string{true: "", false: " (removed)"}[r.Kept])

	if len(r.Load) > 0 {
		p.f("\nLOAD: from the first byte sent until the server has stored every event\n")
		t := p.table()
		fmt.Fprintln(t, "phase\ttransport\tevents\traw MB\tsent s\tstored s\tevents/s\traw MB/s\tserver CPU s\tserver µs/event\tclient CPU s\tretries\t")
		for _, ph := range r.Load {
			fmt.Fprintf(t, "%s\t%s\t%s\t%.1f\t%.1f\t%.1f\t%s\t%.1f\t%.1f\t%.0f\t%.1f\t%d\t\n", ph.Name, ph.Transport, thousands(ph.Events),
				float64(ph.RawBytes)/1e6, ph.SendSeconds, ph.Seconds, thousands(int64(ph.EventsPerS)), ph.MBPerS, ph.ServerCPU, ph.ServerCPUPerEvent, ph.ClientCPU, ph.Retries)
		}
		p.flush(t)
		p.f("stored %s events (search count), %s failed to parse; server peak RSS (VmHWM) %s\n",
			thousands(r.StoredEvents), thousands(r.FailedEvents), mib(r.PeakRSSLoad))
	}

	if d := r.Disk; d != nil {
		p.f("\nDISK: after SIGTERM (store checkpointed)\n")
		t := p.table()
		fmt.Fprintf(t, "raw lines\t%s\t\n", mb(d.RawBytes))
		fmt.Fprintf(t, "archive (zstd NDJSON)\t%s\t%.3f x raw\n", mb(d.ArchiveBytes), d.ArchiveRatio)
		fmt.Fprintf(t, "store (database + block files)\t%s\t%.3f x raw\n", mb(d.StoreBytes), d.StoreRatio)
		fmt.Fprintf(t, "archive + store\t%s\t%.3f x raw\n", mb(d.ArchiveBytes+d.StoreBytes), d.Ratio)
		p.flush(t)
	}

	if len(r.Queries) > 0 {
		p.f("\nQUERIES: limit=100, %d runs after 1 warm-up; wall = HTTP round trip, took = server's took_ms; server peak RSS %s\n",
			r.Queries[0].Runs, mib(r.PeakRSSQueries))
		t := p.table()
		fmt.Fprintln(t, "query\tq\trange\tcount\thits\twall min\twall median\twall max\ttook median\tgoal\t")
		for _, q := range r.Queries {
			rng := "all"
			if q.From != "" {
				rng = "last hour"
				if from, err := time.Parse(time.RFC3339, q.From); err == nil && r.Manifest != nil {
					if d := r.Manifest.End.Sub(from); d != time.Hour && d%time.Hour == 0 {
						rng = fmt.Sprintf("last %dh", d/time.Hour)
					}
				}
			}
			fmt.Fprintf(t, "%s\t%s\t%s\t%v\t%s\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", q.Name, orEmpty(q.Query), rng, countMode(q.QuerySpec), hitsText(q),
				q.Wall.Min, q.Wall.Median, q.Wall.Max, q.Took.Median, goalText(q.GoalMs, q.Met))
		}
		p.flush(t)
	}

	p.f("\nREFERENCE: %s over the same raw data", r.Reference.Command)
	if r.Reference.Skipped != "" {
		p.f(": skipped, %s\n", r.Reference.Skipped)
	} else if len(r.Reference.Results) > 0 {
		p.f(", runs: %d\n", r.Reference.Results[0].Runs)
		t := p.table()
		fmt.Fprintln(t, "needle\tlines\tmin ms\tmedian ms\tmax ms\t")
		for _, x := range r.Reference.Results {
			fmt.Fprintf(t, "%s\t%s\t%.0f\t%.0f\t%.0f\t\n", x.Needle, thousands(x.Lines), x.Wall.Min, x.Wall.Median, x.Wall.Max)
		}
		p.flush(t)
	} else {
		p.f("\n")
	}

	if len(r.Targets) > 0 {
		p.f("\nTARGETS (the issue's figures, set for 10 million events over 30 days)\n")
		t := p.table()
		for _, x := range r.Targets {
			fmt.Fprintf(t, "%s\t%s\t%s\t%s\t\n", x.Name, x.Goal, x.Value, map[bool]string{true: "met", false: "NOT met"}[x.Met])
		}
		p.flush(t)
	}
	for _, n := range r.Notes {
		p.f("note: %s\n", n)
	}
	return p.err
}

type printer struct {
	w   io.Writer
	err error
}

func (p *printer) f(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) table() *tabwriter.Writer {
	return tabwriter.NewWriter(p.w, 0, 0, 2, ' ', 0)
}

func (p *printer) flush(t *tabwriter.Writer) {
	if err := t.Flush(); err != nil && p.err == nil {
		p.err = err
	}
}

func goalText(goal float64, met bool) string {
	if goal == 0 {
		return "no goal: for reference"
	}
	if met {
		return fmt.Sprintf("<= %g ms: met", goal)
	}
	return fmt.Sprintf("<= %g ms: NOT met", goal)
}

func perKind(m *Manifest) string {
	var parts []string
	for _, k := range kindNames {
		n := m.Counts[k]
		if n == 0 {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (avg %d B)", k, thousands(n), m.RawBytes[k]/n-1))
	}
	return strings.Join(parts, ", ")
}

func plantedText(p map[string]int) string {
	var parts []string
	for _, k := range kindNames {
		if n := p[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k))
		}
	}
	return strings.Join(parts, "+")
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown CPU"
	}
	return s
}

func orEmpty(q string) string {
	if q == "" {
		return "(empty)"
	}
	return q
}

// thousands writes n with thousands separators: 1234567 -> 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func mb(n int64) string  { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
func mib(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
func gib(n int64) string { return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30)) }

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func countMode(q QuerySpec) string {
	if q.Exact {
		return "exact"
	}
	return fmt.Sprint(q.Count)
}

// hitsText is the hit count, "≥ N" when the count stopped at the limit.
func hitsText(q QueryResult) string {
	if q.HitsAtLeast {
		return ">= " + thousands(q.Hits)
	}
	return thousands(q.Hits)
}
