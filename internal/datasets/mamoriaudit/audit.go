// Package mamoriaudit is the dataset of mamori's own audit log,
// mamori.audit: who logged in (and who failed to), who searched what, who
// acknowledged or resolved alerts, and who created or revoked API tokens.
// mamori writes one Record per action, as a JSON line, through the same
// intake path as any log (archive first); this package defines the record
// and maps it to ECS.
package mamoriaudit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// Name is the dataset's name.
const Name = "mamori.audit"

// Actions a record names.
const (
	ActionLogin        = "login"
	ActionLogout       = "logout"
	ActionSearch       = "search"
	ActionAlertAck     = "alert.acknowledge"
	ActionAlertResolve = "alert.resolve"
	ActionTokenCreate  = "token.create"
	ActionTokenRevoke  = "token.revoke"
	// ActionDenied is a request refused for the caller's role or a
	// missing CSRF header.
	ActionDenied = "access.denied"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
)

// Record is one audit record as archived, one JSON document per line. It
// never holds a password, a session id or a token's secret.
type Record struct {
	Time    time.Time `json:"time"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	// Reason says why an action failed or was refused.
	Reason string `json:"reason,omitempty"`
	// User is who acted: a configured user, the name a failed login gave,
	// or, for token commands run on the server's machine, "cli:" and the
	// operating-system user.
	User string `json:"user,omitempty"`
	Role string `json:"role,omitempty"`
	// Via is how the actor was authenticated: password, session, token or
	// cli.
	Via string `json:"via,omitempty"`
	// ViaToken is the id of the API token a request came with.
	ViaToken  string `json:"via_token,omitempty"`
	SourceIP  string `json:"source_ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Method    string `json:"method,omitempty"`
	Path      string `json:"path,omitempty"`
	Status    int    `json:"status,omitempty"`
	// Query, From and To are a search's query and time range; Results
	// counts the events it returned and Total the matches it counted.
	Query   string    `json:"query,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
	Results *int      `json:"results,omitempty"`
	Total   *int64    `json:"total,omitempty"`
	// AlertID is the alert acknowledged or resolved.
	AlertID string `json:"alert_id,omitempty"`
	// Token is the API token created or revoked.
	Token *Token `json:"token,omitempty"`
}

// Token describes an API token in a record: never its secret.
type Token struct {
	ID      string    `json:"id"`
	Name    string    `json:"name,omitempty"`
	User    string    `json:"user"`
	Role    string    `json:"role,omitempty"`
	Expires time.Time `json:"expires,omitzero"`
}

// Marshal is the record's archived form: one line of JSON.
func (r Record) Marshal() []byte {
	b, err := json.Marshal(r)
	if err != nil {
		// Every field is a plain value: this cannot fail.
		panic(fmt.Sprintf("mamoriaudit: marshal record: %v", err))
	}
	return b
}

// New returns the dataset. Records arrive only under its name (mamori
// writes them), so it claims nothing.
func New() dataset.Dataset {
	return dataset.Dataset{
		Name:        Name,
		Description: "mamori's own audit log: logins, searches, alert changes, API tokens",
		Parser:      dataset.ParserFunc(parse),
	}
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("mamori.audit: "+format, args...)
}

// maxField bounds a text field: a longer one is not a record mamori
// wrote (a query is at most what a URL holds).
const maxField = 64 << 10

func parse(rec dataset.Record) ([]*event.Event, error) {
	data := bytes.TrimSpace(rec.Data)
	if len(data) == 0 {
		return nil, nil
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, errorf("not an audit record: %w", err)
	}
	if dec.More() {
		return nil, errors.New("mamori.audit: more than one JSON value in the record")
	}
	if r.Action == "" {
		return nil, errorf("record without an action")
	}
	switch r.Outcome {
	case Success, Failure:
	default:
		return nil, errorf("outcome %q: want success or failure", r.Outcome)
	}
	for _, s := range []string{r.Action, r.User, r.Query, r.Path, r.UserAgent, r.Reason} {
		if len(s) > maxField {
			return nil, errorf("a field is over %d bytes", maxField)
		}
	}
	ev := event.New(32)
	if !r.Time.IsZero() && r.Time.Year() >= 1970 {
		ev.Set(event.FieldTimestamp, r.Time)
	}
	ev.Set("event.kind", "event")
	ev.Set("event.provider", "mamori")
	ev.SetString("event.action", r.Action)
	ev.Set("event.outcome", r.Outcome)
	category, typ := classify(r)
	ev.Set("event.category", category)
	ev.Set("event.type", typ)
	ev.SetString("event.reason", r.Reason)
	ev.SetString("user.name", r.User)
	if r.Role != "" {
		ev.Set("user.roles", []string{r.Role})
	}
	if ip, err := netip.ParseAddr(r.SourceIP); err == nil {
		ev.Set("source.ip", ip.Unmap().String())
	} else {
		ev.SetString("source.address", r.SourceIP)
	}
	ev.SetString("user_agent.original", r.UserAgent)
	ev.SetString("http.request.method", r.Method)
	if r.Status > 0 {
		ev.Set("http.response.status_code", int64(r.Status))
	}
	ev.SetString("url.path", r.Path)

	const ns = "mamori.audit."
	ev.SetString(ns+"via", r.Via)
	ev.SetString(ns+"via_token", r.ViaToken)
	ev.SetString(ns+"query", r.Query)
	if !r.From.IsZero() {
		ev.Set(ns+"from", r.From)
	}
	if !r.To.IsZero() {
		ev.Set(ns+"to", r.To)
	}
	if r.Results != nil {
		ev.Set(ns+"results", int64(*r.Results))
	}
	if r.Total != nil {
		ev.Set(ns+"total", *r.Total)
	}
	ev.SetString(ns+"alert_id", r.AlertID)
	if t := r.Token; t != nil {
		ev.SetString(ns+"token.id", t.ID)
		ev.SetString(ns+"token.name", t.Name)
		ev.SetString(ns+"token.role", t.Role)
		if !t.Expires.IsZero() {
			ev.Set(ns+"token.expires", t.Expires)
		}
		// The token's user is the target of the change.
		ev.SetString("user.target.name", t.User)
	}
	ev.Set(event.FieldMessage, message(r))
	return []*event.Event{ev}, nil
}

// classify gives a record's ECS event.category and event.type.
func classify(r Record) (category, typ []string) {
	switch r.Action {
	case ActionLogin:
		return []string{"authentication", "session"}, []string{"start"}
	case ActionLogout:
		return []string{"authentication", "session"}, []string{"end"}
	case ActionSearch:
		return []string{"api"}, []string{"access"}
	case ActionAlertAck, ActionAlertResolve:
		return []string{"api"}, []string{"change"}
	case ActionTokenCreate:
		return []string{"iam"}, []string{"creation"}
	case ActionTokenRevoke:
		return []string{"iam"}, []string{"deletion"}
	case ActionDenied:
		return []string{"api"}, []string{"denied"}
	}
	return []string{"api"}, []string{"info"}
}

// message is a sentence for the timeline.
func message(r Record) string {
	who := r.User
	if who == "" {
		who = "someone"
	}
	failed := r.Outcome == Failure
	var b strings.Builder
	switch r.Action {
	case ActionLogin:
		if failed {
			fmt.Fprintf(&b, "login failed for %s", who)
		} else {
			fmt.Fprintf(&b, "%s logged in", who)
		}
	case ActionLogout:
		fmt.Fprintf(&b, "%s logged out", who)
	case ActionSearch:
		q := r.Query
		if q == "" {
			q = "*"
		}
		fmt.Fprintf(&b, "%s searched %q", who, q)
		if !r.From.IsZero() {
			fmt.Fprintf(&b, " from %s", r.From.UTC().Format(time.RFC3339))
		}
		if !r.To.IsZero() {
			fmt.Fprintf(&b, " to %s", r.To.UTC().Format(time.RFC3339))
		}
		if r.Path != "" && r.Path != "/api/v1/search" {
			fmt.Fprintf(&b, " (%s)", r.Path)
		}
		if r.Results != nil {
			fmt.Fprintf(&b, ": %d results", *r.Results)
		}
		if r.Total != nil {
			fmt.Fprintf(&b, ", %d matches counted", *r.Total)
		}
	case ActionAlertAck:
		fmt.Fprintf(&b, "%s acknowledged alert %s", who, r.AlertID)
	case ActionAlertResolve:
		fmt.Fprintf(&b, "%s resolved alert %s", who, r.AlertID)
	case ActionTokenCreate, ActionTokenRevoke:
		verb := "created"
		if r.Action == ActionTokenRevoke {
			verb = "revoked"
		}
		fmt.Fprintf(&b, "%s %s an API token", who, verb)
		if t := r.Token; t != nil {
			fmt.Fprintf(&b, " %s", t.ID)
			if t.Name != "" {
				fmt.Fprintf(&b, " (%s)", t.Name)
			}
			fmt.Fprintf(&b, " for %s", t.User)
			if t.Role != "" {
				fmt.Fprintf(&b, " with role %s", t.Role)
			}
		}
	case ActionDenied:
		fmt.Fprintf(&b, "%s was refused %s %s", who, r.Method, r.Path)
	default:
		fmt.Fprintf(&b, "%s: %s", who, r.Action)
	}
	if failed && r.Action != ActionLogin && r.Action != ActionDenied {
		b.WriteString(" (failed)")
	}
	if r.Reason != "" {
		fmt.Fprintf(&b, ": %s", r.Reason)
	}
	return b.String()
}
