package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/mamori-sec/mamori/internal/bench"
)

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("bench", "[--events N] [--days D] [--only cef|syslog|json] [--dir DIR [--skip-load]] [--json]\n"+
		"       mamori bench --alert-latency [--rate N] [--duration D] [--warmup D] [--probe-every D] [--dir DIR] [--json]", stderr)
	events := fs.Int64("events", bench.DefaultEvents, "events to generate and load")
	days := fs.Int("days", bench.DefaultDays, "days the events spread over, ending now")
	only := fs.String("only", "", "generate one kind only: cef, syslog or json (for throughput runs)")
	mix := fs.String("mix", "", "kinds' shares, e.g. cef=60,syslog=30,json=10 (the default)")
	seed := fs.Uint64("seed", 1, "seed of the generator: the same seed gives the same data")
	dir := fs.String("dir", "", "work directory (default a temporary one, removed unless --keep)")
	keep := fs.Bool("keep", false, "keep the temporary work directory")
	skipLoad := fs.Bool("skip-load", false, "reuse the loaded --dir of an earlier run: measure disk, queries and the reference only")
	conns := fs.Int("connections", bench.DefaultConnections, "syslog TCP connections, and concurrent HTTP posters")
	batch := fs.Int("batch", bench.DefaultBatchRecords, "JSON records per HTTP request")
	queryRuns := fs.Int("query-runs", bench.DefaultQueryRuns, "timed runs of each query (after one warm-up)")
	refRuns := fs.Int("ref-runs", bench.DefaultRefRuns, "timed runs of each zstd | rg reference search")
	serverConfig := fs.String("config", "", "configuration file for the server under test (mamori serve --config)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	alertLatency := fs.Bool("alert-latency", false, "measure event arrival → PagerDuty notification under a background load, instead of the load and query benchmark")
	rate := fs.Int("rate", bench.DefaultLatencyRate, "--alert-latency: background lines per second")
	duration := fs.Duration("duration", bench.DefaultLatencyDuration, "--alert-latency: how long probes are sent, one every --probe-every")
	warmup := fs.Duration("warmup", bench.DefaultLatencyWarmup, "--alert-latency: background before the first probe")
	probeEvery := fs.Duration("probe-every", bench.DefaultProbeEvery, "--alert-latency: time between probes")
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "mamori bench: cannot find the mamori binary to run as the server: %v\n", err)
		return exitError
	}
	if *alertLatency {
		for _, name := range []string{"events", "days", "only", "mix", "skip-load", "batch", "query-runs", "ref-runs", "config"} {
			if set[name] {
				fmt.Fprintf(stderr, "mamori bench: --%s does not apply to --alert-latency\n", name)
				return exitError
			}
		}
		return runLatencyBench(ctx, bench.LatencyConfig{Binary: exe, Dir: *dir, Keep: *keep, Rate: *rate,
			Connections: *conns, Warmup: *warmup, Duration: *duration, ProbeEvery: *probeEvery, Seed: *seed,
			CommandLine: commandLine("mamori bench", args), Logger: logger}, *asJSON, stdout, stderr)
	}
	for _, name := range []string{"rate", "duration", "warmup", "probe-every"} {
		if set[name] {
			fmt.Fprintf(stderr, "mamori bench: --%s needs --alert-latency\n", name)
			return exitError
		}
	}
	if *skipLoad && *dir == "" {
		fmt.Fprintln(stderr, "mamori bench: --skip-load needs the --dir of a loaded run")
		return exitError
	}
	cfg := bench.Config{Dir: *dir, Keep: *keep, SkipLoad: *skipLoad, Events: *events, Days: *days, Seed: *seed,
		Connections: *conns, BatchRecords: *batch, QueryRuns: *queryRuns, RefRuns: *refRuns,
		CommandLine: commandLine("mamori bench", args), Logger: logger}
	switch {
	case *only != "" && *mix != "":
		fmt.Fprintln(stderr, "mamori bench: give --only or --mix, not both")
		return exitError
	case *only != "":
		k, err := bench.ParseKind(*only)
		if err != nil {
			fmt.Fprintf(stderr, "mamori bench: --only: %v\n", err)
			return exitError
		}
		cfg.Mix = bench.Only(k)
	case *mix != "":
		m, err := bench.ParseMix(*mix)
		if err != nil {
			fmt.Fprintf(stderr, "mamori bench: --mix: %v\n", err)
			return exitError
		}
		cfg.Mix = m
	}
	if *serverConfig != "" {
		cfg.ServerArgs = []string{"--config", *serverConfig}
	}
	cfg.Binary = exe

	rep, err := bench.Run(ctx, cfg)
	return printReport(rep, err, *asJSON, stdout, stderr)
}

// runLatencyBench runs `mamori bench --alert-latency` and prints its
// report.
func runLatencyBench(ctx context.Context, cfg bench.LatencyConfig, asJSON bool, stdout, stderr io.Writer) int {
	rep, err := bench.RunLatency(ctx, cfg)
	return printReport(rep, err, asJSON, stdout, stderr)
}

// printReport prints a bench report as text or JSON, or the error that
// stopped the bench.
func printReport(rep interface{ WriteText(io.Writer) error }, err error, asJSON bool, stdout, stderr io.Writer) int {
	if err != nil {
		fmt.Fprintf(stderr, "mamori bench: %v\n", err)
		return exitError
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mamori bench: write report: %v\n", err)
		return exitError
	}
	return exitOK
}

// commandLine renders a command as it could be typed again.
func commandLine(name string, args []string) string {
	parts := []string{name}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}
