package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/app"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/search"
)

const rulesSynopsis = `list | validate FILE... | test [--rule ID] [FILE...] | run --from T [--to T]

  list       the loaded rules: state, level, id, title, datasets (--server asks a running server)
  validate   parse and compile rule files offline; every rule that does not load is named
             with its file, line and reason (exit 2)
  test       run each rule against the samples kept beside its file (FILE.positive.log must make
             the file's rules fire, FILE.negative.log must not; FILE.positive.DATASET.log names
             the records' dataset); exit 2 when a sample fails
  run        run the rules over stored events of a time range and store the alerts; alerts
             already raised are neither raised nor notified again (--server: through a running
             server; otherwise on the local data directory, whose server must be stopped)

'mamori rules COMMAND -h' shows a command's flags.`

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "Usage: mamori rules %s\n", rulesSynopsis)
		return exitError
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintf(stdout, "Usage: mamori rules %s\n", rulesSynopsis)
		return exitOK
	case "list":
		return rulesList(ctx, args[1:], stdout, stderr)
	case "validate":
		return rulesValidate(args[1:], stdout, stderr)
	case "test":
		return rulesTest(args[1:], stdout, stderr)
	case "run":
		return rulesRun(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "mamori rules: unknown command %q\nUsage: mamori rules %s\n", args[0], rulesSynopsis)
	return exitError
}

// loadConfig reads and finishes a configuration file ("" for defaults).
func loadConfig(path, dataDir string) (config.Config, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return cfg, err
	}
	if dataDir != "" {
		cfg.DataDir = dataDir
	}
	if err := cfg.Finish(); err != nil {
		return cfg, fmt.Errorf("configuration is invalid:\n%w", err)
	}
	return cfg, nil
}

func rulesList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("rules list", "[--config FILE | --server URL] [--json]", stderr)
	cfgPath := fs.String("config", "", "configuration file whose rules to list")
	server := fs.String("server", "", "list the rules a running server has loaded (e.g. http://127.0.0.1:8514)")
	tokenFile := tokenFlag(fs)
	asJSON := fs.Bool("json", false, "print the API's JSON")
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	var rules api.RulesResponse
	if *server != "" {
		c, err := newClient(*server, *tokenFile, 30*time.Minute)
		if err == nil {
			err = callAPI(ctx, c, http.MethodGet, "/api/v1/rules", nil, &rules)
		}
		if err != nil {
			fmt.Fprintf(stderr, "mamori rules list: %v\n", err)
			return exitError
		}
	} else {
		cfg, err := loadConfig(*cfgPath, "")
		if err == nil {
			var book *app.RuleBook
			if book, err = app.LoadConfiguredRules(cfg); err == nil {
				rules = book.Summary()
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "mamori rules list: %v\n", err)
			return exitError
		}
	}
	if *asJSON {
		return printJSON(stdout, stderr, rules)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATE\tLEVEL\tRULE\tTITLE\tDATASETS")
	for _, r := range rules.Rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", ruleState(r), r.Level, r.Ref, r.Title, strings.Join(r.Datasets, ","))
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\n%d rules in %d files: %d active, %d disabled, %d rejected\n",
		rules.Loaded, rules.Files, rules.Active, rules.Disabled, len(rules.Rejected))
	for _, rj := range rules.Rejected {
		fmt.Fprintf(stderr, "rejected: %s\n", rejectionText(rj))
	}
	for _, d := range rules.UnknownDisabled {
		fmt.Fprintf(stderr, "warning: rules.disabled: no loaded rule has the id or name %q\n", d)
	}
	return exitOK
}

// ruleState is one word for a rule's state: disabled, inactive (its
// logsource maps to no dataset), counted (active, raising no alert of its
// own: a correlation counts it) or active.
func ruleState(r api.RuleSummary) string {
	switch {
	case r.Disabled:
		return "disabled"
	case !r.Active:
		return "inactive"
	case !r.Emits:
		return "counted"
	}
	return "active"
}

func rejectionText(r api.RuleRejection) string {
	loc := r.File
	if r.Line > 0 {
		loc = fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	if r.Title != "" {
		return fmt.Sprintf("%s: %q: %s", loc, r.Title, r.Reason)
	}
	return loc + ": " + r.Reason
}

func rulesValidate(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("rules validate", "[--config FILE] FILE...", stderr)
	cfgPath := fs.String("config", "", "configuration file whose field mappings and placeholders to use")
	files, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	if len(files) == 0 {
		fmt.Fprintln(stderr, "mamori rules validate: give rule files or directories (a correlation is checked with the files of the rules it counts)")
		return exitError
	}
	cfg, err := loadConfig(*cfgPath, "")
	if err != nil {
		fmt.Fprintf(stderr, "mamori rules validate: %v\n", err)
		return exitError
	}
	book, err := app.LoadRules(cfg.Rules, app.SigmaFiles(files))
	if err != nil {
		fmt.Fprintf(stderr, "mamori rules validate: %v\n", err)
		return exitError
	}
	for _, rj := range book.Report.Rejected {
		fmt.Fprintln(stdout, rj.String())
	}
	for _, info := range book.Report.Rules {
		if !info.Active {
			fmt.Fprintf(stdout, "%s:%d: %q: note: loads but runs on nothing: %s\n", info.Rule.File, info.Rule.Line, info.Rule.Title, info.Inactive)
		}
	}
	fmt.Fprintf(stdout, "%d rules in %d files: %d loaded (%d active), %d rejected\n",
		book.Report.Total(), book.Report.Files, book.Report.Loaded, book.Report.Active, len(book.Report.Rejected))
	if len(book.Report.Rejected) > 0 {
		return exitError
	}
	return exitOK
}

func rulesTest(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("rules test", "[--config FILE] [--rule ID] [FILE...]", stderr)
	cfgPath := fs.String("config", "", "configuration file: its rules, field mappings and datasets")
	rule := fs.String("rule", "", "test only this rule (id or name)")
	verbose := fs.Bool("v", false, "also list the rules without samples")
	files, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	cfg, err := loadConfig(*cfgPath, "")
	if err != nil {
		fmt.Fprintf(stderr, "mamori rules test: %v\n", err)
		return exitError
	}
	var book *app.RuleBook
	if len(files) > 0 {
		book, err = app.LoadRules(cfg.Rules, app.SigmaFiles(files))
	} else {
		book, err = app.LoadConfiguredRules(cfg)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mamori rules test: %v\n", err)
		return exitError
	}
	for _, rj := range book.Report.Rejected {
		fmt.Fprintf(stderr, "rejected: %s\n", rj)
	}
	reg, err := app.Registry(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "mamori rules test: %v\n", err)
		return exitError
	}
	rep, err := book.TestSamples(reg, *rule, time.Now())
	if err != nil {
		fmt.Fprintf(stderr, "mamori rules test: %v\n", err)
		return exitError
	}
	for _, r := range rep.Results {
		kind := "negative"
		if r.Sample.Positive {
			kind = "positive"
		}
		if r.Passed() {
			fmt.Fprintf(stdout, "ok    %s (%s, %d events, %s)\n", r.Sample.File, kind, r.Events, plural(len(r.Rules), "rule"))
			continue
		}
		fmt.Fprintf(stdout, "FAIL  %s (%s, %d events)\n", r.Sample.File, kind, r.Events)
		for _, f := range r.Failures {
			fmt.Fprintf(stdout, "      %s\n", f)
		}
	}
	if *verbose {
		for _, t := range rep.Untested {
			fmt.Fprintf(stdout, "no samples: %s\n", t)
		}
	}
	fmt.Fprintf(stdout, "%s, %d failed; %s without samples\n", plural(len(rep.Results), "sample"), rep.Failed(), plural(len(rep.Untested), "rule"))
	if rep.Failed() > 0 || len(book.Report.Rejected) > 0 {
		return exitError
	}
	return exitOK
}

func rulesRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("rules run", "--from T [--to T] [--rule ID] [--server URL | --config FILE --data DIR] [--json]", stderr)
	from := fs.String("from", "", "start of the range (RFC 3339, a date, or now-24h)")
	to := fs.String("to", "", "end of the range, exclusive (default now)")
	rule := fs.String("rule", "", "raise alerts of this rule only (id or name)")
	server := fs.String("server", "", "run on this server (e.g. http://127.0.0.1:8514); default: the local data directory")
	cfgPath := fs.String("config", "", "configuration file (local mode)")
	dataDir := fs.String("data", "", "data directory (local mode)")
	tokenFile := tokenFlag(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	if *from == "" {
		fmt.Fprintln(stderr, "mamori rules run: give --from (and --to, default now)")
		return exitError
	}
	var res api.RunResult
	var err error
	if *server != "" {
		v := url.Values{"from": {*from}}
		if *to != "" {
			v.Set("to", *to)
		}
		if *rule != "" {
			v.Set("rule", *rule)
		}
		var c *apiClient
		if c, err = newClient(*server, *tokenFile, 30*time.Minute); err == nil {
			err = callAPI(ctx, c, http.MethodPost, "/api/v1/rules/run?"+v.Encode(), nil, &res)
		}
	} else {
		res, err = rulesRunLocal(ctx, *cfgPath, *dataDir, *from, *to, *rule, stderr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mamori rules run: %v\n", err)
		return exitError
	}
	if *asJSON {
		return printJSON(stdout, stderr, res)
	}
	fmt.Fprintf(stdout, "%d events evaluated in %.1f s: %d matches, %d new alerts, %d alerts updated, %d matches already in alerts\n",
		res.Events, res.TookMS/1000, res.Matches, len(res.Raised), res.Updated, res.Repeats)
	for _, a := range res.Raised {
		fmt.Fprintf(stdout, "%s  %-13s %s\n", a.ID, a.Severity, a.Title)
	}
	return exitOK
}

// rulesRunLocal runs the rules on the local data directory, then delivers
// the notifications that are due (the rest wait for `mamori serve`).
func rulesRunLocal(ctx context.Context, cfgPath, dataDir, from, to, rule string, stderr io.Writer) (api.RunResult, error) {
	cfg, err := loadConfig(cfgPath, dataDir)
	if err != nil {
		return api.RunResult{}, err
	}
	f, t, err := search.ParseRange(from, to, "", time.Now())
	if err != nil {
		return api.RunResult{}, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	book, err := loadServeRules(cfg, logger)
	if err != nil {
		return api.RunResult{}, err
	}
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return api.RunResult{}, err
	}
	defer a.Close()
	if err := a.OpenDetection(book); err != nil {
		return api.RunResult{}, err
	}
	res, err := a.Detect.Run(ctx, f, t, rule)
	if err != nil {
		return res, err
	}
	if _, err := a.Detect.Sender.SendDue(ctx); err != nil {
		logger.Warn("notifications left for the server to deliver", "err", err)
	}
	return res, nil
}

// plural is "1 rule", "2 rules".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func printJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintln(stderr, err)
		return exitError
	}
	return exitOK
}
