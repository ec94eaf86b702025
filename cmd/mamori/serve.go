package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/mamori-sec/mamori/internal/app"
	"github.com/mamori-sec/mamori/internal/config"
)

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "[--config FILE] [--data DIR] [--http ADDR] [--syslog-udp ADDR] [--syslog-tcp ADDR] [--check]", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML; see docs/configuration.md)")
	dataDir := fs.String("data", "", "data directory (default ./mamori-data)")
	httpAddr := fs.String("http", "", "HTTP API address (default 127.0.0.1:8514; \"off\" disables)")
	udpAddr := fs.String("syslog-udp", "", "syslog UDP address (default 127.0.0.1:5514; \"off\" disables)")
	tcpAddr := fs.String("syslog-tcp", "", "syslog TCP address (default 127.0.0.1:5514; \"off\" disables)")
	check := fs.Bool("check", false, "validate the configuration and exit")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "text or json")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file (for performance work)")
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		fmt.Fprintf(stderr, "mamori serve: %v\n", err)
		return exitError
	}
	if *dataDir != "" {
		cfg.DataDir = *dataDir
	}
	if *httpAddr != "" {
		cfg.HTTP.Address = *httpAddr
		if *httpAddr == "off" {
			cfg.HTTP.Address = ""
		}
	}
	cfg.Syslog = overrideListener(cfg.Syslog, "udp", *udpAddr)
	cfg.Syslog = overrideListener(cfg.Syslog, "tcp", *tcpAddr)
	if err := cfg.Finish(); err != nil {
		fmt.Fprintf(stderr, "mamori serve: configuration is invalid:\n%v\n", err)
		return exitError
	}
	if *check {
		// Mapping files are read and checked too.
		if _, err := app.Registry(cfg); err != nil {
			fmt.Fprintf(stderr, "mamori serve: configuration is invalid:\n%v\n", err)
			return exitError
		}
		fmt.Fprintln(stdout, "configuration OK")
		return exitOK
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "mamori serve: --log-level: %v\n", err)
		return exitError
	}
	opts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	if strings.EqualFold(*logFormat, "json") {
		logger = slog.New(slog.NewJSONHandler(stderr, opts))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, opts))
	}

	stopProfile, err := startCPUProfile(*cpuProfile)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitError
	}
	defer stopProfile()
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitError
	}
	logger.Info("mamori starting", "version", version, "data", cfg.DataDir, "archive", cfg.Archive.URL)
	runErr := a.Serve(ctx, version, nil)
	if err := a.Close(); err != nil {
		logger.Error("close", "err", err)
		return exitError
	}
	if runErr != nil {
		logger.Error("stopped", "err", runErr)
		return exitError
	}
	logger.Info("stopped cleanly")
	return exitOK
}

// overrideListener sets the address of the listener of a protocol from a
// flag: adds one if absent, removes it for "off".
func overrideListener(ls []config.Listener, protocol, addr string) []config.Listener {
	if addr == "" {
		return ls
	}
	out := ls[:0:0]
	found := false
	for _, l := range ls {
		if l.Protocol == protocol {
			found = true
			if addr == "off" {
				continue
			}
			l.Address = addr
		}
		out = append(out, l)
	}
	if !found && addr != "off" {
		out = append(out, config.Listener{Protocol: protocol, Address: addr})
	}
	return out
}
