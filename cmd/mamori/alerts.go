package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/event"
)

const alertsSynopsis = `list [--status S,...] [--since D] | show ID | ack ID [--by NAME] | resolve ID [--by NAME]

  list      alerts, most recently seen first (exit 1 when there are none)
  show      an alert, its notifications and the timeline of related events (±30 min)
  ack       acknowledge an alert (its notifiers are told: PagerDuty acknowledges)
  resolve   resolve an alert (PagerDuty resolves its incident); a later match raises a new alert

Every command talks to a running server (--server, default http://127.0.0.1:8514).
'mamori alerts COMMAND -h' shows a command's flags.`

const defaultServer = "http://127.0.0.1:8514"

func runAlerts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "Usage: mamori alerts %s\n", alertsSynopsis)
		return exitError
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintf(stdout, "Usage: mamori alerts %s\n", alertsSynopsis)
		return exitOK
	case "list":
		return alertsList(ctx, args[1:], stdout, stderr)
	case "show":
		return alertsShow(ctx, args[1:], stdout, stderr)
	case "ack", "acknowledge":
		return alertsChange(ctx, "ack", args[1:], stdout, stderr)
	case "resolve":
		return alertsChange(ctx, "resolve", args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "mamori alerts: unknown command %q\nUsage: mamori alerts %s\n", args[0], alertsSynopsis)
	return exitError
}

func alertsList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("alerts list", "[--server URL] [--status open,acknowledged] [--since 24h | --from T --to T] [--min-severity S] [--rule ID] [--limit N] [--json]", stderr)
	server := fs.String("server", defaultServer, "mamori server URL")
	status := fs.String("status", "", "only these statuses: open, acknowledged, resolved (comma-separated)")
	since := fs.String("since", "", "only alerts seen in this last stretch (15m, 24h, 7d)")
	from := fs.String("from", "", "only alerts last seen at or after this time")
	to := fs.String("to", "", "only alerts last seen before this time")
	minSev := fs.String("min-severity", "", "only alerts at least this severe")
	rule := fs.String("rule", "", "only alerts of this rule")
	limit := fs.Int("limit", 100, "most alerts to list")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	tokenFile := tokenFlag(fs)
	if _, done, code := parseFlags(fs, args); done {
		return code
	}
	c, err := newClient(*server, *tokenFile, 30*time.Minute)
	if err != nil {
		fmt.Fprintf(stderr, "mamori alerts list: %v\n", err)
		return exitError
	}
	v := url.Values{"limit": {strconv.Itoa(*limit)}}
	for k, val := range map[string]string{"status": *status, "since": *since, "from": *from, "to": *to,
		"min_severity": *minSev, "rule": *rule} {
		if val != "" {
			v.Set(k, val)
		}
	}
	var res api.AlertsResponse
	if err := callAPI(ctx, c, http.MethodGet, "/api/v1/alerts?"+v.Encode(), nil, &res); err != nil {
		fmt.Fprintf(stderr, "mamori alerts list: %v\n", err)
		return exitError
	}
	if *asJSON {
		if code := printJSON(stdout, stderr, res); code != exitOK {
			return code
		}
	} else if len(res.Alerts) > 0 {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSTATUS\tSEVERITY\tLAST SEEN\tEVENTS\tTITLE")
		for _, a := range res.Alerts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", a.ID, a.Status, a.Severity,
				a.LastSeen.UTC().Format(time.RFC3339), a.EventCount, oneLine(a.Title))
		}
		tw.Flush()
	}
	if len(res.Alerts) == 0 {
		return exitNoMatch
	}
	return exitOK
}

func alertsShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("alerts show", "[--server URL] [--context N] [--json] ID", stderr)
	server := fs.String("server", defaultServer, "mamori server URL")
	limit := fs.Int("context", 50, "related events to show (0 for none)")
	asJSON := fs.Bool("json", false, "print the API's JSON")
	tokenFile := tokenFlag(fs)
	ids, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	if len(ids) != 1 {
		fmt.Fprintln(stderr, "mamori alerts show: give one alert id")
		return exitError
	}
	c, err := newClient(*server, *tokenFile, 30*time.Minute)
	if err != nil {
		fmt.Fprintf(stderr, "mamori alerts show: %v\n", err)
		return exitError
	}
	v := url.Values{}
	if *limit > 0 {
		v.Set("context_limit", strconv.Itoa(*limit))
	} else {
		v.Set("context", "false")
	}
	var res api.AlertResponse
	u := "/api/v1/alerts/" + url.PathEscape(ids[0]) + "?" + v.Encode()
	if err := callAPI(ctx, c, http.MethodGet, u, nil, &res); err != nil {
		fmt.Fprintf(stderr, "mamori alerts show: %v\n", err)
		return exitError
	}
	if *asJSON {
		return printJSON(stdout, stderr, res)
	}
	printAlert(stdout, res)
	return exitOK
}

// printAlert writes an alert, its deliveries and its timeline for people.
func printAlert(w io.Writer, res api.AlertResponse) {
	a := res.Alert
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ts := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	fmt.Fprintf(tw, "Alert\t%s\n", a.ID)
	fmt.Fprintf(tw, "Title\t%s\n", oneLine(a.Title))
	fmt.Fprintf(tw, "Severity\t%s\n", a.Severity)
	status := string(a.Status)
	if a.AcknowledgedBy != "" {
		status += fmt.Sprintf(" (acknowledged by %s at %s)", a.AcknowledgedBy, ts(a.AcknowledgedAt))
	}
	if a.ResolvedBy != "" {
		status += fmt.Sprintf(" (resolved by %s at %s)", a.ResolvedBy, ts(a.ResolvedAt))
	}
	fmt.Fprintf(tw, "Status\t%s\n", status)
	fmt.Fprintf(tw, "Rule\t%s (%s)\n", a.RuleID, oneLine(a.RuleTitle))
	fmt.Fprintf(tw, "Summary\t%s\n", oneLine(a.Summary))
	fmt.Fprintf(tw, "Dataset\t%s\n", a.Dataset)
	if len(a.GroupKey) > 0 {
		fmt.Fprintf(tw, "Group\t%s\n", strings.Join(a.GroupKey, ", "))
	}
	fmt.Fprintf(tw, "Seen\t%s to %s\n", ts(a.FirstSeen), ts(a.LastSeen))
	fmt.Fprintf(tw, "Events\t%d in %d matches\n", a.EventCount, a.MatchCount)
	tw.Flush()

	fmt.Fprintln(w, "\nNotifications:")
	if len(res.Deliveries) == 0 {
		fmt.Fprintln(w, "  none (no notifier is routed this alert)")
	} else {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NOTIFIER\tKIND\tVERSION\tSTATE\tATTEMPTS\tQUEUED\tDONE\tLAST ERROR")
		for _, d := range res.Deliveries {
			done := "-"
			if !d.Done.IsZero() {
				done = ts(d.Done)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%d\t%s\t%s\t%s\n", d.Notifier, d.Kind, d.Version, d.State, d.Attempts,
				ts(d.Queued), done, oneLine(d.LastError))
		}
		tw.Flush()
	}

	switch {
	case res.ContextError != "":
		fmt.Fprintf(w, "\nTimeline: not available: %s\n", res.ContextError)
	case res.Context != nil:
		c := res.Context
		fmt.Fprintf(w, "\nTimeline, %s to %s (* marks the alert's own events):\n", ts(c.From), ts(c.To))
		if c.Query != "" {
			fmt.Fprintf(w, "  query: %s\n", c.Query)
		}
		own := map[string]bool{}
		for _, id := range a.EventIDs {
			own[id] = true
		}
		for _, e := range c.Events {
			mark := " "
			if own[e.String(event.FieldID)] {
				mark = "*"
			}
			fmt.Fprintf(w, "%s %s\n", mark, summaryLine(e))
		}
		if len(c.Events) == 0 {
			fmt.Fprintln(w, "  no related events found")
		}
		if c.Next != "" {
			fmt.Fprintf(w, "  (more: mamori search --asc --from %s --to %s '%s')\n", ts(c.From), ts(c.To), c.Query)
		}
	}
}

func alertsChange(ctx context.Context, what string, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("alerts "+what, "[--server URL] [--by NAME] ID", stderr)
	server := fs.String("server", defaultServer, "mamori server URL")
	by := fs.String("by", defaultUser(), "who takes the alert on (recorded with it; with access control, the token's user is)")
	tokenFile := tokenFlag(fs)
	ids, done, code := parseFlags(fs, args)
	if done {
		return code
	}
	if len(ids) != 1 {
		fmt.Fprintf(stderr, "mamori alerts %s: give one alert id\n", what)
		return exitError
	}
	c, err := newClient(*server, *tokenFile, 30*time.Minute)
	if err != nil {
		fmt.Fprintf(stderr, "mamori alerts %s: %v\n", what, err)
		return exitError
	}
	body, _ := json.Marshal(map[string]string{"by": *by})
	var res struct {
		Alert alert.Alert `json:"alert"`
	}
	u := "/api/v1/alerts/" + url.PathEscape(ids[0]) + "/" + what
	if err := callAPI(ctx, c, http.MethodPost, u, bytes.NewReader(body), &res); err != nil {
		fmt.Fprintf(stderr, "mamori alerts %s: %v\n", what, err)
		return exitError
	}
	a := res.Alert
	who, at := a.AcknowledgedBy, a.AcknowledgedAt
	if a.Status == alert.Resolved {
		who, at = a.ResolvedBy, a.ResolvedAt
	}
	fmt.Fprintf(stdout, "%s %s (by %s at %s): %s\n", a.ID, a.Status, who, at.UTC().Format(time.RFC3339), oneLine(a.Title))
	return exitOK
}

// defaultUser names the person running the command.
func defaultUser() string {
	for _, k := range []string{"MAMORI_USER", "USER", "USERNAME"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "cli"
}

// oneLine keeps text on one line for tables.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
