package notifytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"
)

// PDEvent is an Events API v2 request as the fake PagerDuty read it.
type PDEvent struct {
	RoutingKey  string     `json:"routing_key"`
	EventAction string     `json:"event_action"`
	DedupKey    string     `json:"dedup_key"`
	Payload     *PDPayload `json:"payload"`
	Client      string     `json:"client"`
	ClientURL   string     `json:"client_url"`
	Links       []struct {
		Href string `json:"href"`
		Text string `json:"text"`
	} `json:"links"`
}

// PDPayload is a trigger's payload.
type PDPayload struct {
	Summary       string         `json:"summary"`
	Source        string         `json:"source"`
	Severity      string         `json:"severity"`
	Timestamp     string         `json:"timestamp"`
	Component     string         `json:"component"`
	Group         string         `json:"group"`
	Class         string         `json:"class"`
	CustomDetails map[string]any `json:"custom_details"`
}

// PDAlert is the fake's state of one PagerDuty alert (one dedup_key).
type PDAlert struct {
	Status   string // triggered, acknowledged or resolved
	Triggers int    // trigger events received for it (deduplicated into it)
	Summary  string // from the latest trigger
}

// PagerDuty is a fake Events API v2: POST /v2/enqueue validates the event
// as PagerDuty documents it (32-character routing_key; event_action
// trigger, acknowledge or resolve; dedup_key of at most 255 characters,
// required to acknowledge or resolve; a trigger's payload with summary of
// at most 1024 characters, source, and severity critical, error, warning
// or info), answers 202 {"status":"success",...} or 400 {"status":"invalid
// event",...}, and deduplicates triggers by dedup_key: a trigger for an
// alert that is not resolved updates it instead of opening another.
type PagerDuty struct {
	server
	events   []PDEvent
	alerts   map[string]*PDAlert
	opened   int
	arrivals chan PDEvent
}

// NewPagerDuty starts a fake PagerDuty; Close it when done.
func NewPagerDuty() *PagerDuty {
	p := &PagerDuty{alerts: map[string]*PDAlert{}, arrivals: make(chan PDEvent, 1024)}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// EnqueueURL is the events endpoint.
func (p *PagerDuty) EnqueueURL() string { return p.URL + "/v2/enqueue" }

// Events returns the accepted events, in order.
func (p *PagerDuty) Events() []PDEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PDEvent(nil), p.events...)
}

// Alert returns the state of the alert with this dedup key.
func (p *PagerDuty) Alert(dedupKey string) (PDAlert, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a, ok := p.alerts[dedupKey]
	if !ok {
		return PDAlert{}, false
	}
	return *a, true
}

// Opened counts the PagerDuty alerts opened: the pages.
func (p *PagerDuty) Opened() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.opened
}

// Arrivals delivers each accepted event as it arrives (buffered).
func (p *PagerDuty) Arrivals() <-chan PDEvent { return p.arrivals }

func (p *PagerDuty) serve(w http.ResponseWriter, r *http.Request) {
	p.count()
	if r.URL.Path != "/v2/enqueue" {
		writeJSON(w, http.StatusNotFound, `{"status":"not found"}`)
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, `{"status":"method not allowed"}`)
		return
	}
	if reply, ok := p.next(); ok {
		reply.write(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var ev PDEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		invalid(w, "Event object is invalid", "body is not JSON: "+err.Error())
		return
	}
	if problems := validatePD(&ev); len(problems) > 0 {
		invalid(w, "Event object is invalid", problems...)
		return
	}
	p.mu.Lock()
	if ev.DedupKey == "" {
		ev.DedupKey = fmt.Sprintf("generated-%d", len(p.events)+1)
	}
	a := p.alerts[ev.DedupKey]
	switch ev.EventAction {
	case "trigger":
		if a == nil || a.Status == "resolved" {
			a = &PDAlert{Status: "triggered"}
			p.alerts[ev.DedupKey] = a
			p.opened++
		}
		a.Triggers++
		a.Summary = ev.Payload.Summary
	case "acknowledge":
		if a != nil && a.Status != "resolved" {
			a.Status = "acknowledged"
		}
	case "resolve":
		if a != nil {
			a.Status = "resolved"
		}
	}
	p.events = append(p.events, ev)
	p.mu.Unlock()
	select {
	case p.arrivals <- ev:
	default:
	}
	out, _ := json.Marshal(map[string]string{"status": "success", "message": "Event processed", "dedup_key": ev.DedupKey})
	writeJSON(w, http.StatusAccepted, string(out))
}

func invalid(w http.ResponseWriter, msg string, errs ...string) {
	out, _ := json.Marshal(map[string]any{"status": "invalid event", "message": msg, "errors": errs})
	writeJSON(w, http.StatusBadRequest, string(out))
}

func validatePD(ev *PDEvent) []string {
	var errs []string
	if len(ev.RoutingKey) != 32 {
		errs = append(errs, "Length of 'routing_key' is incorrect (should be 32 characters)")
	}
	switch ev.EventAction {
	case "trigger":
		if ev.Payload == nil {
			errs = append(errs, "'payload' is missing or blank")
			break
		}
		if ev.Payload.Summary == "" {
			errs = append(errs, "'payload.summary' is missing or blank")
		}
		if len([]rune(ev.Payload.Summary)) > 1024 {
			errs = append(errs, "'payload.summary' is too long (maximum is 1024 characters)")
		}
		if ev.Payload.Source == "" {
			errs = append(errs, "'payload.source' is missing or blank")
		}
		switch ev.Payload.Severity {
		case "critical", "error", "warning", "info":
		default:
			errs = append(errs, "'payload.severity' is invalid (must be one of: critical, error, warning, info)")
		}
		if ev.Payload.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, ev.Payload.Timestamp); err != nil {
				errs = append(errs, "'payload.timestamp' is invalid")
			}
		}
	case "acknowledge", "resolve":
		if ev.DedupKey == "" {
			errs = append(errs, "'dedup_key' is missing or blank")
		}
	default:
		errs = append(errs, "'event_action' is invalid (must be one of: trigger, acknowledge, resolve)")
	}
	if len(ev.DedupKey) > 255 {
		errs = append(errs, "'dedup_key' is too long (maximum is 255 characters)")
	}
	return errs
}
