package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/mamori-sec/mamori/internal/app"
	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/notify"
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
		return checkConfig(cfg, stdout, stderr)
	}
	if _, err := auth.NewDirectory(cfg.Auth); err != nil {
		fmt.Fprintf(stderr, "mamori serve: configuration is invalid:\n%v\n", err)
		return exitError
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
	applyGoMemoryLimit(cfg, logger)
	book, err := loadServeRules(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitError
	}
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		return exitError
	}
	if err := a.OpenDetection(book); err != nil {
		logger.Error("cannot start", "err", err)
		a.Close()
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

// checkConfig is serve --check: everything serve would read at start is
// read and checked — mapping files, rule files, notifier secrets — and
// every problem is reported.
func checkConfig(cfg config.Config, stdout, stderr io.Writer) int {
	var problems []error
	if _, err := app.Registry(cfg); err != nil {
		problems = append(problems, err)
	}
	book, err := app.LoadConfiguredRules(cfg)
	if err != nil {
		problems = append(problems, err)
	} else if err := book.RejectedError(); err != nil {
		// A rule asked for that does not load fails the check, even with
		// rules.allow_rejected: the check is where it must be seen.
		problems = append(problems, err)
	}
	if _, err := notify.NewAll(cfg.Alerts.Notifiers, notify.Options{}); err != nil {
		problems = append(problems, err)
	}
	if _, err := auth.NewDirectory(cfg.Auth); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stderr, "mamori serve: configuration is invalid:\n%v\n", errors.Join(problems...))
		return exitError
	}
	for _, d := range book.UnknownDisabled {
		fmt.Fprintf(stderr, "warning: rules.disabled: no loaded rule has the id or name %q\n", d)
	}
	fmt.Fprintf(stdout, "configuration OK (%d rules loaded, %d active; %d notifiers; %d users)\n",
		book.Report.Loaded, book.Report.Active, len(cfg.Alerts.Notifiers), len(cfg.Auth.Users))
	return exitOK
}

// loadServeRules loads the configured rules for serve. A rule that does
// not load stops the start, unless rules.allow_rejected: then each is
// logged at error level (and counted in mamori_rules_rejected).
func loadServeRules(cfg config.Config, logger *slog.Logger) (*app.RuleBook, error) {
	book, err := app.LoadConfiguredRules(cfg)
	if err != nil {
		return nil, err
	}
	if err := book.RejectedError(); err != nil {
		if !cfg.Rules.AllowRejected {
			return nil, fmt.Errorf("%w\n(fix or remove them, or set rules.allow_rejected: true to start without them)", err)
		}
		for _, r := range book.Report.Rejected {
			logger.Error("rule not loaded", "file", r.File, "line", r.Line, "rule", r.Title, "reason", r.Reason)
		}
	}
	for _, d := range book.UnknownDisabled {
		logger.Warn("rules.disabled names no loaded rule", "rule", d)
	}
	logger.Info("rules loaded", "files", book.Report.Files, "loaded", book.Report.Loaded, "active", book.Report.Active,
		"rejected", len(book.Report.Rejected), "disabled", book.Summary().Disabled)
	return book, nil
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
