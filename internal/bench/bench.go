// Package bench is `mamori bench`: the end-to-end benchmark. It generates
// realistic security logs (Deep Security CEF, Linux syslog, CloudTrail-like
// JSON) with a few rare needles, runs the real server as a child process,
// loads the data through its real listeners, measures throughput, memory,
// disk and search latency, and times `zstd -dc | rg` over the same raw data
// as the brute-force reference.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Config is one benchmark run.
type Config struct {
	// Binary is the mamori executable to run as the server.
	Binary string
	// ServerArgs are added to `mamori serve` (e.g. --config FILE).
	ServerArgs []string
	// Dir is the work directory; "" makes a temporary one, removed at the
	// end unless Keep. A given Dir is never removed.
	Dir  string
	Keep bool
	// SkipLoad reuses Dir as an earlier run loaded it: only disk, queries
	// and the reference are measured.
	SkipLoad bool

	Events int64
	Days   int
	Mix    Mix
	Seed   uint64
	// Connections is the number of syslog TCP connections and of
	// concurrent HTTP posters.
	Connections int
	// BatchRecords is the number of JSON records per HTTP request.
	BatchRecords int
	QueryRuns    int
	RefRuns      int

	// CommandLine is printed in the report.
	CommandLine string
	Now         func() time.Time
	Logger      *slog.Logger
}

// Defaults of the flags.
const (
	DefaultEvents       = 10_000_000
	DefaultDays         = 30
	DefaultConnections  = 4
	DefaultBatchRecords = 5000
	DefaultQueryRuns    = 11
	DefaultRefRuns      = 3
)

// stallTimeout fails a load whose stored count stops moving this long.
const stallTimeout = 3 * time.Minute

// stopGrace is how long a stopping server may take to checkpoint.
const stopGrace = 10 * time.Minute

// Run runs the benchmark and returns its report.
func Run(ctx context.Context, cfg Config) (rep *Report, err error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	dir := cfg.Dir
	temp := dir == ""
	if temp {
		if dir, err = os.MkdirTemp("", "mamori-bench-"); err != nil {
			return nil, err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if temp && !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	rep = &Report{Command: cfg.CommandLine, Machine: machine(), Started: cfg.Now().UTC(), Dir: dir,
		Kept: !temp || cfg.Keep}
	dataDir := filepath.Join(dir, dataDirName)
	logPath := filepath.Join(dir, serverLog)

	var m *Manifest
	if cfg.SkipLoad {
		if m, err = readManifest(dir); err != nil {
			return nil, err
		}
		if _, err := os.Stat(dataDir); err != nil {
			return nil, fmt.Errorf("--skip-load: no loaded data directory: %w", err)
		}
		log.Info("reusing loaded data", "dir", dir, "events", m.Events)
	} else {
		if _, err := os.Stat(dataDir); err == nil {
			return nil, fmt.Errorf("%s already holds a loaded run: use --skip-load to query it, or another --dir", dir)
		}
		end := cfg.Now().UTC().Truncate(time.Second)
		gen := GenConfig{Events: cfg.Events, Days: cfg.Days, End: end, Seed: cfg.Seed, Mix: cfg.Mix, Needles: DefaultNeedles}
		log.Info("generating", "events", cfg.Events, "days", cfg.Days, "mix", cfg.Mix.String(), "dir", dir)
		if m, err = generate(ctx, gen, dir, cfg.BatchRecords); err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
		log.Info("generated", "seconds", round(m.GenerateSeconds, 1), "raw_bytes", m.TotalRawBytes())
		if err := load(ctx, cfg, dir, dataDir, logPath, m, rep); err != nil {
			return nil, err
		}
	}
	shown := *m
	shown.JSONFrames = nil // an index of the JSON file, of no interest in a report
	rep.Manifest = &shown

	disk, err := measureDisk(dataDir, m.TotalRawBytes())
	if err != nil {
		return nil, fmt.Errorf("measure disk: %w", err)
	}
	rep.Disk = &disk

	if err := queries(ctx, cfg, dataDir, logPath, m, rep); err != nil {
		return nil, err
	}
	log.Info("running the zstd | rg reference", "runs", cfg.RefRuns)
	rep.Reference = runReference(ctx, dir, m, cfg.RefRuns)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rep.Targets = targets(rep)
	if m.Events < DefaultEvents {
		rep.Notes = append(rep.Notes, fmt.Sprintf("The issue's search goals are for 10,000,000 events; this run has %d.", m.Events))
	}
	return rep, nil
}

func (c *Config) fill() error {
	if c.Binary == "" {
		return errors.New("bench: no mamori binary to run")
	}
	if c.Events <= 0 {
		c.Events = DefaultEvents
	}
	if c.Days <= 0 {
		c.Days = DefaultDays
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
	}
	if c.Connections <= 0 {
		c.Connections = DefaultConnections
	}
	if c.BatchRecords <= 0 {
		c.BatchRecords = DefaultBatchRecords
	}
	if c.QueryRuns <= 0 {
		c.QueryRuns = DefaultQueryRuns
	}
	if c.RefRuns <= 0 {
		c.RefRuns = DefaultRefRuns
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c.Mix.check()
}

// load starts the server on a fresh data directory, sends the lines over
// syslog TCP and then the JSON over HTTP, each phase timed until every
// event is stored, and stops the server so that the store is checkpointed.
func load(ctx context.Context, cfg Config, dir, dataDir, logPath string, m *Manifest, rep *Report) error {
	log := cfg.Logger
	s, err := startServer(ctx, cfg.Binary, dataDir, logPath, cfg.ServerArgs, log)
	if err != nil {
		return err
	}
	defer s.stop(stopGrace)
	pid := s.cmd.Process.Pid
	var want int64
	if m.LineEvents > 0 {
		want += m.LineEvents
		log.Info("loading lines over syslog TCP", "events", m.LineEvents, "connections", cfg.Connections)
		ph := LoadPhase{Name: "cef+syslog lines", Transport: fmt.Sprintf("syslog TCP, octet-counted, %d conns", cfg.Connections),
			Events: m.LineEvents, RawBytes: m.RawBytes[KindCEF.String()] + m.RawBytes[KindSyslog.String()]}
		err := measurePhase(ctx, s, pid, want, &ph, log, func() (int64, int64, error) {
			wire, err := sendLines(ctx, s.syslog, filepath.Join(dir, linesName), cfg.Connections)
			return wire, 0, err
		})
		if err != nil {
			return fmt.Errorf("load lines: %w", err)
		}
		rep.Load = append(rep.Load, ph)
	}
	if m.JSONEvents > 0 {
		want += m.JSONEvents
		log.Info("loading JSON over HTTP", "events", m.JSONEvents, "requests", len(m.JSONFrames), "posters", cfg.Connections)
		ph := LoadPhase{Name: "json records", Transport: fmt.Sprintf("HTTP, zstd, %d records/request, %d posters", cfg.BatchRecords, cfg.Connections),
			Events: m.JSONEvents, RawBytes: m.RawBytes[KindJSON.String()]}
		err := measurePhase(ctx, s, pid, want, &ph, log, func() (int64, int64, error) {
			return postJSON(ctx, s, filepath.Join(dir, jsonZstName), m.JSONFrames, cfg.Connections)
		})
		if err != nil {
			return fmt.Errorf("load json: %w", err)
		}
		rep.Load = append(rep.Load, ph)
	}
	if rss, err := procStatus(pid, "VmHWM"); err == nil {
		rep.PeakRSSLoad = rss
	}
	failed, err := s.metric(ctx, "mamori_events_failed_total")
	if err != nil {
		return err
	}
	rep.FailedEvents = int64(failed)
	all, _, err := s.search(ctx, QuerySpec{Count: true, Exact: true})
	if err != nil {
		return fmt.Errorf("count stored events: %w", err)
	}
	if all.Total != nil {
		rep.StoredEvents = *all.Total
	}
	log.Info("load done; stopping the server so that it checkpoints", "stored", rep.StoredEvents)
	return s.stop(stopGrace)
}

// measurePhase times send from its start until the server stores want
// events in all, with the CPU both sides used meanwhile.
func measurePhase(ctx context.Context, s *server, pid int, want int64, ph *LoadPhase, log *slog.Logger, send func() (wire, retries int64, err error)) error {
	serverCPU0, _ := procCPU(pid)
	clientCPU0 := selfCPU()
	start := time.Now()
	wire, retries, err := send()
	if err != nil {
		if aerr := s.alive(); aerr != nil {
			return aerr
		}
		return err
	}
	sent := time.Since(start)
	done, err := waitStored(ctx, s, want, stallTimeout, log)
	if err != nil {
		return err
	}
	serverCPU1, _ := procCPU(pid)
	ph.WireBytes, ph.Retries = wire, retries
	ph.SendSeconds = sent.Seconds()
	ph.Seconds = done.Sub(start).Seconds()
	ph.EventsPerS = float64(ph.Events) / ph.Seconds
	ph.MBPerS = float64(ph.RawBytes) / 1e6 / ph.Seconds
	ph.ServerCPU = (serverCPU1 - serverCPU0).Seconds()
	ph.ClientCPU = (selfCPU() - clientCPU0).Seconds()
	ph.ServerCPUPerEvent = ph.ServerCPU * 1e6 / float64(ph.Events)
	log.Info("phase done", "phase", ph.Name, "seconds", round(ph.Seconds, 2), "events_per_second", int64(ph.EventsPerS))
	return nil
}

// queries restarts the server on the loaded data and runs the query set.
func queries(ctx context.Context, cfg Config, dataDir, logPath string, m *Manifest, rep *Report) error {
	log := cfg.Logger
	s, err := startServer(ctx, cfg.Binary, dataDir, logPath, cfg.ServerArgs, log)
	if err != nil {
		return err
	}
	defer s.stop(stopGrace)
	for _, q := range querySet(m) {
		log.Info("query", "name", q.Name, "q", q.Query, "from", q.From, "count", q.Count, "runs", cfg.QueryRuns)
		r, err := runQuery(ctx, s, q, cfg.QueryRuns)
		if err != nil {
			if aerr := s.alive(); aerr != nil {
				return aerr
			}
			return err
		}
		rep.Queries = append(rep.Queries, r)
	}
	if rss, err := procStatus(s.cmd.Process.Pid, "VmHWM"); err == nil {
		rep.PeakRSSQueries = rss
	}
	return s.stop(stopGrace)
}

// Disk is what the loaded data takes on disk.
type Disk struct {
	RawBytes     int64   `json:"raw_bytes"`
	ArchiveBytes int64   `json:"archive_bytes"`
	StoreBytes   int64   `json:"store_bytes"` // the DuckDB files
	Ratio        float64 `json:"ratio"`       // (archive + store) / raw
	ArchiveRatio float64 `json:"archive_ratio"`
	StoreRatio   float64 `json:"store_ratio"`
}

func measureDisk(dataDir string, raw int64) (Disk, error) {
	d := Disk{RawBytes: raw}
	archive := filepath.Join(dataDir, "archive") + string(filepath.Separator)
	err := filepath.WalkDir(dataDir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		// Everything outside the archive is the store: the database, its
		// WAL and the block files. Counting it all cannot under-count.
		if strings.HasPrefix(path, archive) {
			d.ArchiveBytes += info.Size()
		} else {
			d.StoreBytes += info.Size()
		}
		return nil
	})
	if raw > 0 {
		d.ArchiveRatio = float64(d.ArchiveBytes) / float64(raw)
		d.StoreRatio = float64(d.StoreBytes) / float64(raw)
		d.Ratio = d.ArchiveRatio + d.StoreRatio
	}
	return d, err
}

// Machine describes where the run happened.
type Machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	MemBytes  int64  `json:"memory_bytes"`
	OS        string `json:"os"`
	GoVersion string `json:"go"`
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(rest, &kb)
				m.MemBytes = kb << 10
			}
		}
	}
	return m
}
