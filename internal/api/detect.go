package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/search"
)

// Alerts is what the alert endpoints need: the alert manager's reads and
// lifecycle, and the timeline around an alert.
type Alerts interface {
	List(ctx context.Context, f alert.Filter) ([]alert.Alert, error)
	Get(ctx context.Context, id string) (alert.Alert, error)
	Deliveries(ctx context.Context, id string) ([]alert.Delivery, error)
	Acknowledge(ctx context.Context, id, who string) (alert.Alert, error)
	Resolve(ctx context.Context, id, who string) (alert.Alert, error)
	// Context returns up to limit events related to the alert (same IPs,
	// users and hosts, ±30 minutes), oldest first.
	Context(ctx context.Context, a alert.Alert, limit int) (AlertContext, error)
}

// Rules is what the rule endpoints need.
type Rules interface {
	Rules(ctx context.Context) RulesResponse
	// Run evaluates the rules over stored events of [from, to) (to zero:
	// up to now) and hands the matches to the alerts, which count each
	// event once: alerts already raised are not raised or notified again.
	// rule, when set, keeps the matches of that rule only.
	Run(ctx context.Context, from, to time.Time, rule string) (RunResult, error)
}

// Errors a Rules implementation may wrap, for the API's status codes.
var (
	// ErrRunBusy: another run over history is in progress (409).
	ErrRunBusy = errors.New("a run over history is already in progress")
	// ErrUnknownRule: the rule named is not loaded (400).
	ErrUnknownRule = errors.New("no loaded rule has this id or name")
)

// AlertContext is the timeline around an alert.
type AlertContext struct {
	// Query is the search that finds the related events (docs/query.md).
	Query string    `json:"query"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// Events are the first related events, oldest first; Next is the
	// search cursor for more (GET /api/v1/search with the same query,
	// range and order=asc).
	Events []*event.Event `json:"events"`
	Next   string         `json:"next,omitempty"`
}

// AlertResponse is the body of GET /api/v1/alerts/{id}.
type AlertResponse struct {
	Alert      alert.Alert      `json:"alert"`
	Deliveries []alert.Delivery `json:"deliveries"`
	// Context is absent with context=false; ContextError says why it is
	// absent otherwise (the alert itself is still answered).
	Context      *AlertContext `json:"context,omitempty"`
	ContextError string        `json:"context_error,omitempty"`
}

// AlertsResponse is the body of GET /api/v1/alerts.
type AlertsResponse struct {
	Alerts []alert.Alert `json:"alerts"`
}

// RulesResponse is the body of GET /api/v1/rules.
type RulesResponse struct {
	// Files counts the rule files read; Loaded the rules parsed and
	// compiled; Active those whose logsource maps to a dataset; Disabled
	// those the configuration disables.
	Files    int `json:"files"`
	Loaded   int `json:"loaded"`
	Active   int `json:"active"`
	Disabled int `json:"disabled"`
	// UnknownDisabled are rules.disabled entries no loaded rule answers to.
	UnknownDisabled []string        `json:"unknown_disabled,omitempty"`
	Rejected        []RuleRejection `json:"rejected"`
	Rules           []RuleSummary   `json:"rules"`
}

// RuleSummary describes a loaded rule.
type RuleSummary struct {
	// Ref is the rule's id, else its name, else its title: the rule_id of
	// its alerts.
	Ref    string `json:"ref"`
	ID     string `json:"id,omitempty"`
	Name   string `json:"name,omitempty"`
	Title  string `json:"title"`
	Level  string `json:"level"`
	Status string `json:"status,omitempty"`
	// Source is the rule source ("sigma" for the configured files).
	Source      string `json:"source"`
	File        string `json:"file"`
	Line        int    `json:"line"`
	Author      string `json:"author,omitempty"`
	Correlation bool   `json:"correlation"`
	Active      bool   `json:"active"`
	// Inactive says why an inactive rule runs on nothing.
	Inactive string `json:"inactive,omitempty"`
	// Emits says the rule raises alerts of its own (a rule a correlation
	// counts does not, unless the correlation says generate: true).
	Emits    bool     `json:"emits"`
	Disabled bool     `json:"disabled"`
	Datasets []string `json:"datasets"`
}

// RuleRejection is a rule that did not load.
type RuleRejection struct {
	File   string `json:"file"`
	Line   int    `json:"line,omitempty"`
	ID     string `json:"id,omitempty"`
	Title  string `json:"title,omitempty"`
	Reason string `json:"reason"`
}

// RunResult is the body of POST /api/v1/rules/run.
type RunResult struct {
	// Events counts the events evaluated (of datasets some rule reads).
	Events int64 `json:"events"`
	// Matches counts the rule matches handed to the alerts.
	Matches int `json:"matches"`
	// Raised are the new alerts; Updated counts alerts that took new
	// events; Repeats counts matches whose events an alert already held.
	Raised  []alert.Alert `json:"raised"`
	Updated int           `json:"updated"`
	Repeats int           `json:"repeats"`
	TookMS  float64       `json:"took_ms"`
}

func (s *Server) routeDetection(mux *http.ServeMux) {
	if s.Alerts != nil {
		mux.HandleFunc("GET /api/v1/alerts", s.handleAlerts)
		mux.HandleFunc("GET /api/v1/alerts/{id}", s.handleAlert)
		mux.HandleFunc("POST /api/v1/alerts/{id}/ack", s.handleAlertChange(s.Alerts.Acknowledge))
		mux.HandleFunc("POST /api/v1/alerts/{id}/resolve", s.handleAlertChange(s.Alerts.Resolve))
	}
	if s.Rules != nil {
		mux.HandleFunc("GET /api/v1/rules", s.handleRules)
		mux.HandleFunc("POST /api/v1/rules/run", s.handleRulesRun)
	}
}

func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	var f alert.Filter
	for _, st := range splitList(v.Get("status")) {
		status, err := alert.ParseStatus(st)
		if err != nil {
			writeError(w, http.StatusBadRequest, "status: "+err.Error())
			return
		}
		f.Statuses = append(f.Statuses, status)
	}
	var err error
	if f.Since, f.Until, err = search.ParseRange(v.Get("from"), v.Get("to"), v.Get("since"), s.now()); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if sev := v.Get("min_severity"); sev != "" {
		if f.MinSeverity, err = alert.ParseSeverity(sev); err != nil {
			writeError(w, http.StatusBadRequest, "min_severity: "+err.Error())
			return
		}
	}
	f.RuleID = v.Get("rule")
	if f.Limit, err = intParam(v.Get("limit"), 100, 1, 10000); err != nil {
		writeError(w, http.StatusBadRequest, "limit: "+err.Error())
		return
	}
	if f.Offset, err = intParam(v.Get("offset"), 0, 0, 1<<31-1); err != nil {
		writeError(w, http.StatusBadRequest, "offset: "+err.Error())
		return
	}
	list, err := s.Alerts.List(r.Context(), f)
	if err != nil {
		s.Logger.Error("list alerts failed", "err", err)
		writeError(w, http.StatusInternalServerError, "list alerts failed")
		return
	}
	if list == nil {
		list = []alert.Alert{}
	}
	writeJSON(w, http.StatusOK, AlertsResponse{Alerts: list})
}

// contextLimit is how many related events GET /api/v1/alerts/{id} returns
// by default.
const contextLimit = 200

func (s *Server) handleAlert(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	withContext := true
	switch v.Get("context") {
	case "", "true":
	case "false":
		withContext = false
	default:
		writeError(w, http.StatusBadRequest, `context: want "true" or "false"`)
		return
	}
	limit, err := intParam(v.Get("context_limit"), contextLimit, 1, 10000)
	if err != nil {
		writeError(w, http.StatusBadRequest, "context_limit: "+err.Error())
		return
	}
	a, err := s.Alerts.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		s.alertError(w, err)
		return
	}
	out := AlertResponse{Alert: a}
	if out.Deliveries, err = s.Alerts.Deliveries(r.Context(), a.ID); err != nil {
		s.alertError(w, err)
		return
	}
	if out.Deliveries == nil {
		out.Deliveries = []alert.Delivery{}
	}
	if withContext {
		c, err := s.Alerts.Context(r.Context(), a, limit)
		if err != nil {
			// The alert is what was asked for: answer it, and say why its
			// timeline is missing.
			s.Logger.Error("alert context failed", "alert", a.ID, "err", err)
			out.ContextError = err.Error()
		} else {
			if c.Events == nil {
				c.Events = []*event.Event{}
			}
			out.Context = &c
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// changeBody is the optional body of the ack and resolve endpoints.
type changeBody struct {
	// By names who acknowledges or resolves (default "api").
	By string `json:"by"`
}

func (s *Server) handleAlertChange(change func(ctx context.Context, id, who string) (alert.Alert, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body changeBody
		data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			writeError(w, http.StatusBadRequest, "read body: "+err.Error())
			return
		}
		if len(strings.TrimSpace(string(data))) > 0 {
			if err := json.Unmarshal(data, &body); err != nil {
				writeError(w, http.StatusBadRequest, `body: want {"by": "name"}: `+err.Error())
				return
			}
		}
		if by := r.URL.Query().Get("by"); by != "" {
			body.By = by
		}
		if body.By = strings.TrimSpace(body.By); body.By == "" {
			body.By = "api"
		}
		if p := auth.PrincipalFrom(r.Context()); p != nil {
			body.By = p.User // with access control, who did it is who logged in
		}
		a, err := change(r.Context(), r.PathValue("id"), body.By)
		if err != nil {
			s.alertError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"alert": a})
	}
}

func (s *Server) alertError(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, alert.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, alert.ErrResolved):
		writeError(w, http.StatusConflict, err.Error())
	default:
		s.Logger.Error("alert request failed", "err", err)
		writeError(w, http.StatusInternalServerError, "alert request failed")
	}
}

func (s *Server) handleRules(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.Rules.Rules(r.Context()))
}

func (s *Server) handleRulesRun(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	from, to, err := search.ParseRange(v.Get("from"), v.Get("to"), v.Get("since"), s.now())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if from.IsZero() {
		writeError(w, http.StatusBadRequest, "give from (or since): the start of the history to run the rules over")
		return
	}
	res, err := s.Rules.Run(r.Context(), from, to, v.Get("rule"))
	switch {
	case err == nil:
		if res.Raised == nil {
			res.Raised = []alert.Alert{}
		}
		writeJSON(w, http.StatusOK, res)
	case errors.Is(err, ErrRunBusy):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, ErrUnknownRule):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		s.Logger.Error("rules run failed", "err", err)
		writeError(w, http.StatusInternalServerError, "rules run failed: "+err.Error())
	}
}

// splitList reads "a,b" (and repeated spaces) as a list.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// intParam reads an optional integer parameter within [lo, hi].
func intParam(s string, def, lo, hi int) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, errors.New("want a number from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi))
	}
	return n, nil
}
