package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/event"
)

// fakeAlerts keeps alerts in memory and records the calls.
type fakeAlerts struct {
	alerts     map[string]alert.Alert
	filter     alert.Filter
	who        string
	contextErr error
}

func (f *fakeAlerts) List(_ context.Context, flt alert.Filter) ([]alert.Alert, error) {
	f.filter = flt
	var out []alert.Alert
	for _, a := range f.alerts {
		out = append(out, a)
	}
	return out, nil
}

func (f *fakeAlerts) Get(_ context.Context, id string) (alert.Alert, error) {
	a, ok := f.alerts[id]
	if !ok {
		return a, fmt.Errorf("alert %s: %w", id, alert.ErrNotFound)
	}
	return a, nil
}

func (f *fakeAlerts) Deliveries(_ context.Context, id string) ([]alert.Delivery, error) {
	return []alert.Delivery{{ID: "n1", Notifier: "pd", Kind: alert.Trigger, State: "sent"}}, nil
}

func (f *fakeAlerts) change(id, who string, to alert.Status) (alert.Alert, error) {
	a, err := f.Get(context.Background(), id)
	if err != nil {
		return a, err
	}
	if a.Status == alert.Resolved {
		return a, fmt.Errorf("alert %s: %w", id, alert.ErrResolved)
	}
	f.who = who
	a.Status = to
	f.alerts[id] = a
	return a, nil
}

func (f *fakeAlerts) Acknowledge(_ context.Context, id, who string) (alert.Alert, error) {
	return f.change(id, who, alert.Acknowledged)
}

func (f *fakeAlerts) Resolve(_ context.Context, id, who string) (alert.Alert, error) {
	return f.change(id, who, alert.Resolved)
}

func (f *fakeAlerts) Context(_ context.Context, a alert.Alert, limit int) (AlertContext, error) {
	if f.contextErr != nil {
		return AlertContext{}, f.contextErr
	}
	e := event.New(2)
	e.Set(event.FieldMessage, fmt.Sprintf("related to %s, limit %d", a.ID, limit))
	return AlertContext{Query: `related.ip:("192.0.2.1")`, Events: []*event.Event{e}}, nil
}

// fakeRules answers the rule endpoints.
type fakeRules struct {
	from, to time.Time
	rule     string
	err      error
}

func (f *fakeRules) Rules(context.Context) RulesResponse {
	return RulesResponse{Loaded: 1, Active: 1, Rules: []RuleSummary{{Ref: "r1", Title: "Rule one", Datasets: []string{"linux.syslog"}}},
		Rejected: []RuleRejection{}}
}

func (f *fakeRules) Run(_ context.Context, from, to time.Time, rule string) (RunResult, error) {
	f.from, f.to, f.rule = from, to, rule
	return RunResult{Events: 10, Matches: 2, Repeats: 2}, f.err
}

func newDetectServer(t *testing.T) (*httptest.Server, *fakeAlerts, *fakeRules) {
	t.Helper()
	fa := &fakeAlerts{alerts: map[string]alert.Alert{
		"A1": {ID: "A1", Status: alert.Open, Severity: alert.High, Title: "Brute force"},
		"A2": {ID: "A2", Status: alert.Resolved},
	}}
	fr := &fakeRules{}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := &Server{Datasets: datasets.Builtin(datasets.Options{}), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: func() time.Time { return now }, Alerts: fa, Rules: fr}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv, fa, fr
}

func call(t *testing.T, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", method, url, err)
	}
	return resp.StatusCode, m
}

func TestAlertListFilters(t *testing.T) {
	srv, fa, _ := newDetectServer(t)
	code, m := call(t, "GET", srv.URL+"/api/v1/alerts?status=open,acknowledged&since=24h&min_severity=high&rule=r1&limit=5", "")
	if code != 200 || len(m["alerts"].([]any)) != 2 {
		t.Fatalf("%d %v", code, m)
	}
	f := fa.filter
	if len(f.Statuses) != 2 || f.Statuses[1] != alert.Acknowledged || f.MinSeverity != alert.High || f.RuleID != "r1" ||
		f.Limit != 5 || !f.Since.Equal(time.Date(2026, 2, 28, 12, 0, 0, 0, time.UTC)) || !f.Until.IsZero() {
		t.Errorf("filter %+v", f)
	}
	for _, q := range []string{"status=closed", "since=yesterday", "min_severity=urgent", "limit=0", "limit=x", "from=2026-03-02&to=2026-03-01"} {
		if code, m := call(t, "GET", srv.URL+"/api/v1/alerts?"+q, ""); code != 400 || m["error"] == "" {
			t.Errorf("%s: %d %v", q, code, m)
		}
	}
}

func TestAlertShowWithDeliveriesAndContext(t *testing.T) {
	srv, fa, _ := newDetectServer(t)
	code, m := call(t, "GET", srv.URL+"/api/v1/alerts/A1?context_limit=7", "")
	if code != 200 || m["alert"].(map[string]any)["id"] != "A1" || len(m["deliveries"].([]any)) != 1 {
		t.Fatalf("%d %v", code, m)
	}
	ctx := m["context"].(map[string]any)
	ev := ctx["events"].([]any)[0].(map[string]any)
	if ev["message"] != "related to A1, limit 7" || ctx["query"] == "" {
		t.Errorf("context %v", ctx)
	}
	if _, m = call(t, "GET", srv.URL+"/api/v1/alerts/A1?context=false", ""); m["context"] != nil {
		t.Errorf("context=false still gave %v", m["context"])
	}
	// A failing timeline does not hide the alert.
	fa.contextErr = fmt.Errorf("search failed")
	if code, m = call(t, "GET", srv.URL+"/api/v1/alerts/A1", ""); code != 200 || m["context_error"] != "search failed" || m["alert"] == nil {
		t.Errorf("%d %v", code, m)
	}
	if code, m = call(t, "GET", srv.URL+"/api/v1/alerts/nope", ""); code != 404 || !strings.Contains(m["error"].(string), "no such alert") {
		t.Errorf("unknown alert: %d %v", code, m)
	}
}

func TestAlertAckAndResolve(t *testing.T) {
	srv, fa, _ := newDetectServer(t)
	code, m := call(t, "POST", srv.URL+"/api/v1/alerts/A1/ack", `{"by": "alice"}`)
	if code != 200 || m["alert"].(map[string]any)["status"] != "acknowledged" || fa.who != "alice" {
		t.Fatalf("ack: %d %v (by %q)", code, m, fa.who)
	}
	if code, _ = call(t, "POST", srv.URL+"/api/v1/alerts/A1/resolve", ""); code != 200 || fa.who != "api" {
		t.Fatalf("resolve without a body: %d, by %q (want the default, api)", code, fa.who)
	}
	if code, m = call(t, "POST", srv.URL+"/api/v1/alerts/A2/ack?by=bob", ""); code != 409 || !strings.Contains(m["error"].(string), "resolved") {
		t.Errorf("ack of a resolved alert: %d %v", code, m)
	}
	if code, _ = call(t, "POST", srv.URL+"/api/v1/alerts/A1/ack", `{"by": `); code != 400 {
		t.Errorf("bad body: %d", code)
	}
	if code, _ = call(t, "POST", srv.URL+"/api/v1/alerts/nope/resolve", ""); code != 404 {
		t.Errorf("unknown alert: %d", code)
	}
}

func TestRulesListAndRun(t *testing.T) {
	srv, _, fr := newDetectServer(t)
	code, m := call(t, "GET", srv.URL+"/api/v1/rules", "")
	if code != 200 || m["loaded"] != float64(1) || m["rules"].([]any)[0].(map[string]any)["ref"] != "r1" {
		t.Fatalf("%d %v", code, m)
	}
	code, m = call(t, "POST", srv.URL+"/api/v1/rules/run?from=2026-02-01&to=now-1h&rule=r1", "")
	if code != 200 || m["events"] != float64(10) || m["repeats"] != float64(2) || m["raised"] == nil {
		t.Fatalf("run: %d %v", code, m)
	}
	if !fr.from.Equal(time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)) || !fr.to.Equal(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)) || fr.rule != "r1" {
		t.Errorf("run got %v %v %q", fr.from, fr.to, fr.rule)
	}
	if code, m = call(t, "POST", srv.URL+"/api/v1/rules/run", ""); code != 400 || !strings.Contains(m["error"].(string), "from") {
		t.Errorf("run without from: %d %v", code, m)
	}
	for err, want := range map[error]int{ErrRunBusy: 409, fmt.Errorf("rule %q: %w", "x", ErrUnknownRule): 400, fmt.Errorf("disk full"): 500} {
		fr.err = err
		if code, _ = call(t, "POST", srv.URL+"/api/v1/rules/run?since=1h", ""); code != want {
			t.Errorf("%v: HTTP %d, want %d", err, code, want)
		}
	}
}

func TestDetectionRoutesNeedTheirServices(t *testing.T) {
	s := &Server{Datasets: datasets.Builtin(datasets.Options{}), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("alerts without a service: HTTP %d", resp.StatusCode)
	}
}
