package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// LatencyConfig is one `mamori bench --alert-latency` run: how long an
// event that a rule alerts on takes from arriving at mamori to reaching
// PagerDuty, while the server takes a steady background load.
type LatencyConfig struct {
	// Binary is the mamori executable to run as the server.
	Binary string
	// Dir is the work directory; "" makes a temporary one, removed at the
	// end unless Keep.
	Dir  string
	Keep bool
	// Rate is the background load in lines a second, sent over
	// Connections syslog TCP connections.
	Rate        int
	Connections int
	// Warmup is how long the background runs before the first probe;
	// Duration how long probes are then sent, one every ProbeEvery.
	Warmup     time.Duration
	Duration   time.Duration
	ProbeEvery time.Duration
	// ProbeWait is how long the last notifications are waited for once
	// the server has stored every line sent (a backlog drains first, for
	// as long as the stored count moves at least every ProbeWait).
	ProbeWait time.Duration
	// Pool is the number of distinct background lines, sent round and
	// round.
	Pool int
	Seed uint64

	CommandLine string
	Now         func() time.Time
	Logger      *slog.Logger
}

// Defaults of the alert-latency run.
const (
	DefaultLatencyRate     = 20_000
	DefaultLatencyDuration = 60 * time.Second
	DefaultLatencyWarmup   = 10 * time.Second
	DefaultProbeEvery      = time.Second
	DefaultProbeWait       = 30 * time.Second
	DefaultLatencyPool     = 100_000
)

// LatencyGoal is issue 5's goal for the p95 of arrival → notification.
const LatencyGoal = time.Second

func (c *LatencyConfig) fill() error {
	if c.Binary == "" {
		return errors.New("bench: no mamori binary to run")
	}
	if c.Rate < 0 {
		return errors.New("bench: --rate must not be negative")
	}
	if c.Rate == 0 {
		c.Rate = DefaultLatencyRate
	}
	if c.Connections <= 0 {
		c.Connections = DefaultConnections
	}
	if c.Warmup < 0 {
		return errors.New("bench: --warmup must not be negative")
	}
	if c.Duration <= 0 {
		c.Duration = DefaultLatencyDuration
	}
	if c.ProbeEvery <= 0 {
		c.ProbeEvery = DefaultProbeEvery
	}
	if c.ProbeWait <= 0 {
		c.ProbeWait = DefaultProbeWait
	}
	if c.Pool <= 0 {
		c.Pool = DefaultLatencyPool
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// LatencyReport is what an alert-latency run measured.
type LatencyReport struct {
	Command string  `json:"command"`
	Machine Machine `json:"machine"`
	Started string  `json:"started"`
	Dir     string  `json:"dir"`
	Kept    bool    `json:"kept"`

	// Background: the target, what was sent, and what the server stored
	// while it was sent.
	TargetRate     int     `json:"target_rate"`
	Connections    int     `json:"connections"`
	SendSeconds    float64 `json:"send_seconds"`
	LinesSent      int64   `json:"lines_sent"`
	SentRate       float64 `json:"sent_rate"`
	StoredDuring   int64   `json:"stored_during"`
	StoredRate     float64 `json:"stored_rate"`
	CatchUpSeconds float64 `json:"catch_up_seconds"` // after the send ended, until every line was stored
	ServerCPU      float64 `json:"server_cpu_seconds"`
	ClientCPU      float64 `json:"client_cpu_seconds"` // this process: sender, probes, PagerDuty stand-in
	ServerPeakRSS  int64   `json:"server_peak_rss_bytes,omitempty"`
	// MaxLagSeconds is the highest processing lag the server reported
	// (mamori_processing_lag_seconds: the age of the oldest archive object
	// not yet processed, which the server refreshes every 5 s), read every
	// second: a backlog, when probes are slow.
	MaxLagSeconds float64 `json:"max_processing_lag_seconds"`

	// Probes: arrival → notification.
	ProbeEvery string       `json:"probe_every"`
	Latency    LatencyStats `json:"latency"`
	// AlertsRaised is the server's count; more than the probes means the
	// background raised alerts too.
	AlertsRaised int `json:"alerts_raised"`
	// Notifications received, those of no probe, and requests refused as
	// PagerDuty would.
	Notifications int `json:"notifications"`
	Unmatched     int `json:"notifications_unmatched"`
	Invalid       int `json:"notifications_invalid"`

	GoalMet bool     `json:"goal_met"`
	Notes   []string `json:"notes,omitempty"`
}

// RunLatency runs the alert-latency benchmark.
func RunLatency(ctx context.Context, cfg LatencyConfig) (rep *LatencyReport, err error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	dir := cfg.Dir
	temp := dir == ""
	if temp {
		if dir, err = os.MkdirTemp("", "mamori-bench-latency-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if temp && !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	dataDir := filepath.Join(dir, dataDirName)
	if _, err := os.Stat(dataDir); err == nil {
		return nil, fmt.Errorf("%s already holds a data directory: give another --dir", dir)
	}
	rep = &LatencyReport{Command: cfg.CommandLine, Machine: machine(), Started: cfg.Now().UTC().Format(time.RFC3339),
		Dir: dir, Kept: !temp || cfg.Keep, TargetRate: cfg.Rate, Connections: cfg.Connections,
		ProbeEvery: cfg.ProbeEvery.String()}

	// The PagerDuty stand-in, on a loopback port of this process.
	pd := newPagerDuty(time.Now)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("pagerduty stand-in: %w", err)
	}
	hs := &http.Server{Handler: pd, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	configPath, err := writeLatencyConfig(dir, "http://"+ln.Addr().String()+pagerDutyPath)
	if err != nil {
		return nil, err
	}

	log.Info("generating background lines", "lines", cfg.Pool)
	pool, err := quietLines(cfg.Pool, cfg.Now().UTC().Truncate(time.Second), cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}

	s, err := startServer(ctx, cfg.Binary, dataDir, filepath.Join(dir, serverLog), []string{"--config", configPath}, log)
	if err != nil {
		return nil, err
	}
	defer s.stop(stopGrace)
	pid := s.cmd.Process.Pid
	stored0, err := s.metric(ctx, "mamori_events_stored_total")
	if err != nil {
		return nil, err
	}
	cpu0, _ := procCPU(pid)
	clientCPU0 := selfCPU()

	// Background and probes run side by side; the background ends with the
	// last probe.
	sendFor := cfg.Warmup + cfg.Duration
	log.Info("sending background and probes", "rate", cfg.Rate, "connections", cfg.Connections,
		"warmup", cfg.Warmup, "probing", cfg.Duration, "probe_every", cfg.ProbeEvery)
	type paced struct {
		n   int64
		err error
	}
	// The probes' connection of their own stays open until the end: closing
	// it would hand the server the last probe at once, without the wait
	// for more lines a syslog connection's batch has.
	probeConn, err := (&net.Dialer{}).DialContext(ctx, "tcp", s.syslog)
	if err != nil {
		return nil, fmt.Errorf("connect to syslog %s: %w", s.syslog, err)
	}
	defer probeConn.Close()
	bg := make(chan paced, 1)
	sendCtx, stopSend := context.WithCancel(ctx)
	defer stopSend()
	lagDone := make(chan float64, 1)
	lagCtx, stopLag := context.WithCancel(ctx)
	defer stopLag()
	go func() { lagDone <- sampleMax(lagCtx, s, "mamori_processing_lag_seconds", time.Second) }()
	start := time.Now()
	go func() {
		n, err := paceLines(sendCtx, s.syslog, pool, cfg.Connections, float64(cfg.Rate), sendFor)
		bg <- paced{n, err}
	}()
	probes, perr := sendProbes(sendCtx, probeConn, pd, start.Add(cfg.Warmup), start.Add(sendFor), cfg.ProbeEvery)
	if perr != nil {
		stopSend() // no point loading a server whose probes cannot be sent
	}
	b := <-bg
	sent := time.Since(start)
	if err := errors.Join(perr, b.err); err != nil {
		if aerr := s.alive(); aerr != nil {
			return nil, aerr
		}
		return nil, err
	}
	storedEnd, err := s.metric(ctx, "mamori_events_stored_total")
	if err != nil {
		return nil, err
	}
	rep.SendSeconds = sent.Seconds()
	rep.LinesSent = b.n
	rep.SentRate = float64(b.n) / sent.Seconds()
	rep.StoredDuring = int64(storedEnd - stored0)
	rep.StoredRate = float64(rep.StoredDuring) / sent.Seconds()

	// Wait for the server to store what it was sent (a backlog it built up
	// drains first), then for the last notifications.
	log.Info("waiting for the backlog and the last notifications", "probes", probes, "pending", pd.pending())
	want := int64(stored0) + b.n + int64(probes)
	caughtUp, err := waitBacklog(ctx, s, want, cfg.ProbeWait)
	if err != nil {
		return nil, err
	}
	if caughtUp {
		rep.CatchUpSeconds = time.Since(start.Add(sent)).Seconds()
	} else {
		rep.CatchUpSeconds = -1
		rep.Notes = append(rep.Notes, fmt.Sprintf("The server's stored count stopped short of the lines sent (none stored for %v).", cfg.ProbeWait))
	}
	for deadline := time.Now().Add(cfg.ProbeWait); pd.pending() > 0 && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	stopLag()
	rep.MaxLagSeconds = <-lagDone
	cpu1, _ := procCPU(pid)
	rep.ServerCPU = (cpu1 - cpu0).Seconds()
	rep.ClientCPU = (selfCPU() - clientCPU0).Seconds()
	if rss, err := procStatus(pid, "VmHWM"); err == nil {
		rep.ServerPeakRSS = rss
	}
	if v, err := s.metric(ctx, "mamori_alerts_raised_total"); err == nil {
		rep.AlertsRaised = int(v)
	}
	lat, lost := pd.latencies()
	rep.Latency = latencyStats(lat, lost)
	rep.Notifications, rep.Unmatched, rep.Invalid = pd.counts()
	// The load counts as given when the sender kept the rate (the server's
	// back-pressure slows it otherwise) and the server stored it all
	// within a second of the end.
	loaded := rep.SentRate >= 0.98*float64(cfg.Rate) && caughtUp && rep.CatchUpSeconds <= 1
	rep.GoalMet = loaded && rep.Latency.P95MS != nil && *rep.Latency.P95MS <= float64(LatencyGoal.Milliseconds())
	if !loaded {
		rep.Notes = append(rep.Notes, fmt.Sprintf("The server did not keep up with %d lines/s (sent %.0f/s, stored %.0f/s meanwhile): "+
			"the latency is measured under the load it took.", cfg.Rate, rep.SentRate, rep.StoredRate))
	}
	if rep.Unmatched > 0 || rep.AlertsRaised > probes {
		rep.Notes = append(rep.Notes, fmt.Sprintf("The background raised alerts of its own (%d alerts for %d probes).", rep.AlertsRaised, probes))
	}
	probeConn.Close()
	log.Info("done; stopping the server")
	if err := s.stop(stopGrace); err != nil {
		return nil, err
	}
	return rep, nil
}

// sampleMax reads a server metric every interval until ctx ends, and
// returns the highest value seen.
func sampleMax(ctx context.Context, s *server, name string, interval time.Duration) float64 {
	top := 0.0
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return top
		case <-t.C:
		}
		if v, err := s.metric(ctx, name); err == nil {
			top = max(top, v)
		}
	}
}

// waitBacklog polls the server's stored-events counter until it reaches
// want (true), or stops moving for stall (false).
func waitBacklog(ctx context.Context, s *server, want int64, stall time.Duration) (bool, error) {
	last, lastMove := int64(-1), time.Now()
	for {
		if err := s.alive(); err != nil {
			return false, err
		}
		if v, err := s.metric(ctx, "mamori_events_stored_total"); err == nil {
			if int64(v) >= want {
				return true, nil
			}
			if int64(v) != last {
				last, lastMove = int64(v), time.Now()
			}
		}
		if time.Since(lastMove) > stall {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// writeLatencyConfig writes the server's configuration: the built-in rules
// (the default), no storm guard on the probes' rules, and one PagerDuty
// notifier that posts to url.
func writeLatencyConfig(dir, url string) (string, error) {
	keyPath := filepath.Join(dir, "pagerduty.key")
	if err := os.WriteFile(keyPath, []byte("bench0routing0key0000000000000000\n"), 0o600); err != nil {
		return "", err
	}
	// JSON strings are YAML strings: paths and the URL need no escaping
	// rules of their own.
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	text := "# Written by mamori bench --alert-latency.\n" +
		"alerts:\n" +
		"  # The probes raise a new alert of these rules every second or two by\n" +
		"  # design: the storm guard would fold them into one storm alert.\n" +
		"  rule_storms:\n" +
		"    " + probeRules[0] + ": {off: true}\n" +
		"    " + probeRules[1] + ": {off: true}\n" +
		"  notifiers:\n" +
		"    - name: bench-pagerduty\n" +
		"      type: pagerduty\n" +
		"      url: " + q(url) + "\n" +
		"      routing_key: {file: " + q(keyPath) + "}\n"
	path := filepath.Join(dir, "latency.yml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// sendProbes sends one probe line every `every` from first until end on
// c, noting each one's send time with pd just before it is written. It
// returns the number of probes sent.
func sendProbes(ctx context.Context, c net.Conn, pd *pagerDuty, first, end time.Time, every time.Duration) (int, error) {
	var line, frame []byte
	n := 0
	for at := first; at.Before(end); at = at.Add(every) {
		select {
		case <-ctx.Done():
			return n, ctx.Err()
		case <-time.After(time.Until(at)):
		}
		now := time.Now()
		line = probeLine(line[:0], n, now)
		frame = strconv.AppendInt(frame[:0], int64(len(line)), 10)
		frame = append(frame, ' ')
		frame = append(frame, line...)
		pd.expect(n, now)
		if _, err := c.Write(frame); err != nil {
			return n, fmt.Errorf("write probe: %w", err)
		}
		n++
	}
	return n, nil
}

// WriteText prints the report for people.
func (r *LatencyReport) WriteText(w io.Writer) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	msOr := func(v *float64) string {
		if v == nil {
			return "lost"
		}
		return strconv.FormatFloat(*v, 'f', 0, 64) + " ms"
	}
	p("mamori alert latency benchmark\n")
	p("command: %s\n", r.Command)
	p("machine: %d cores, %s, %.1f GiB, %s, %s\n", r.Machine.Cores, r.Machine.CPU, float64(r.Machine.MemBytes)/(1<<30), r.Machine.OS, r.Machine.GoVersion)
	p("started: %s; work directory %s", r.Started, r.Dir)
	if !r.Kept {
		p(" (removed)")
	}
	p("\n\n")
	p("background: syslog TCP over %d connections, Deep Security CEF and Linux syslog that no rule alerts on\n", r.Connections)
	p("  target    %d lines/s\n", r.TargetRate)
	p("  sent      %d lines in %.1f s = %.0f lines/s\n", r.LinesSent, r.SendSeconds, r.SentRate)
	p("  stored    %d events meanwhile = %.0f events/s", r.StoredDuring, r.StoredRate)
	switch {
	case r.CatchUpSeconds >= 0:
		p("; the rest %.1f s after the send ended\n", r.CatchUpSeconds)
	default:
		p("; it stopped short of the lines sent\n")
	}
	p("  server    %.1f CPU s", r.ServerCPU)
	if r.LinesSent > 0 {
		p(", %.0f µs per line", r.ServerCPU*1e6/float64(r.LinesSent))
	}
	if r.ServerPeakRSS > 0 {
		p(", peak RSS %d MiB", r.ServerPeakRSS>>20)
	}
	p("\n  lag       max %.1f s (the oldest unprocessed object's age, as the server's gauge said)\n", r.MaxLagSeconds)
	p("  bench     %.1f CPU s (sender, probes, PagerDuty stand-in)\n\n", r.ClientCPU)
	l := r.Latency
	p("probes: one every %s, a Deep Security anti-malware or IPS event on its own TCP connection\n", r.ProbeEvery)
	p("  sent %d, notified %d, lost %d\n", l.Probes, l.Probes-l.Lost, l.Lost)
	p("  arrival → PagerDuty request: p50 %s, p95 %s, max %s (min %s)\n", msOr(l.P50MS), msOr(l.P95MS), msOr(l.MaxMS), msOr(l.MinMS))
	p("  alerts raised %d; notifications %d (%d of no probe, %d refused)\n", r.AlertsRaised, r.Notifications, r.Unmatched, r.Invalid)
	verdict := "not met"
	if r.GoalMet {
		verdict = "met"
	}
	p("\ngoal: p95 ≤ %v under %d events/s: %s\n", LatencyGoal, r.TargetRate, verdict)
	for _, n := range r.Notes {
		p("note: %s\n", n)
	}
	return nil
}
