package bench

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// pagerDutyPath is the Events API v2 path the receiver answers on.
const pagerDutyPath = "/v2/enqueue"

// pagerDuty is a stand-in for PagerDuty's Events API v2 in the bench
// process: it answers as PagerDuty does (202 {"status":"success",...}) and
// notes when the first trigger of each probe arrives.
type pagerDuty struct {
	now func() time.Time

	mu        sync.Mutex
	sent      map[int]time.Time // probe → when its line was sent
	arrived   map[int]time.Time // probe → when its first trigger arrived
	requests  int               // valid events received
	unmatched int               // triggers that name no probe: alerts of the background
	invalid   int               // requests PagerDuty would refuse
}

func newPagerDuty(now func() time.Time) *pagerDuty {
	return &pagerDuty{now: now, sent: map[int]time.Time{}, arrived: map[int]time.Time{}}
}

// pdRequest is the part of an Events API v2 request the receiver reads.
type pdRequest struct {
	RoutingKey  string `json:"routing_key"`
	EventAction string `json:"event_action"`
	DedupKey    string `json:"dedup_key"`
	Payload     *struct {
		Summary       string         `json:"summary"`
		Source        string         `json:"source"`
		Severity      string         `json:"severity"`
		CustomDetails map[string]any `json:"custom_details"`
	} `json:"payload"`
}

func (p *pagerDuty) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	at := p.now()
	if r.URL.Path != pagerDutyPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var ev pdRequest
	if err == nil {
		err = json.Unmarshal(body, &ev)
	}
	if problem := pdInvalid(ev, err); problem != "" {
		p.mu.Lock()
		p.invalid++
		p.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, map[string]any{"status": "invalid event",
			"message": "Event object is invalid", "errors": []string{problem}})
		return
	}
	p.mu.Lock()
	p.requests++
	if ev.EventAction == "trigger" {
		if seq, ok := probeOf(ev); !ok {
			p.unmatched++
		} else if _, seen := p.arrived[seq]; !seen {
			p.arrived[seq] = at
		}
	}
	p.mu.Unlock()
	key := ev.DedupKey
	if key == "" {
		key = "bench-" + strconv.FormatInt(at.UnixNano(), 36)
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "message": "Event processed", "dedup_key": key})
}

// pdInvalid says what PagerDuty would refuse in a request, "" if nothing.
func pdInvalid(ev pdRequest, err error) string {
	switch {
	case err != nil:
		return "request body is not a JSON event: " + err.Error()
	case ev.RoutingKey == "":
		return "'routing_key' is missing or blank"
	case ev.EventAction != "trigger" && ev.EventAction != "acknowledge" && ev.EventAction != "resolve":
		return "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"
	case ev.EventAction == "trigger" && (ev.Payload == nil || ev.Payload.Summary == "" || ev.Payload.Source == "" || ev.Payload.Severity == ""):
		return "'payload' is missing or incomplete (summary, source and severity are required)"
	case ev.EventAction != "trigger" && ev.DedupKey == "":
		return "'dedup_key' is required for " + ev.EventAction
	}
	return ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// probeOf finds the probe an alert's notification is about: a probe's host
// name is in the alert's group key (custom_details.group_key) and so in
// its summary line. A notification that names two probes is not a probe's.
func probeOf(ev pdRequest) (int, bool) {
	if ev.Payload == nil {
		return 0, false
	}
	found := -1
	note := func(s string) bool {
		seq, ok := probeIn(s)
		switch {
		case !ok:
			return true
		case found >= 0 && found != seq:
			return false
		}
		found = seq
		return true
	}
	if keys, ok := ev.Payload.CustomDetails["group_key"].([]any); ok {
		for _, k := range keys {
			if s, ok := k.(string); ok && !note(s) {
				return 0, false
			}
		}
	}
	if !note(ev.Payload.Summary) {
		return 0, false
	}
	if s, ok := ev.Payload.CustomDetails["summary"].(string); ok && !note(s) {
		return 0, false
	}
	if found < 0 {
		return 0, false
	}
	return found, true
}

// probeIn finds the probe whose host name s holds (the prefix, then six
// digits, at a word boundary). Two different probes in s give false.
func probeIn(s string) (int, bool) {
	found := -1
	for rest := s; ; {
		i := strings.Index(rest, probeHostPrefix)
		if i < 0 {
			break
		}
		digits := rest[i+len(probeHostPrefix):]
		rest = digits
		if len(digits) < 6 || (len(digits) > 6 && isDigit(digits[6])) {
			continue
		}
		seq := 0
		for i := range 6 {
			if !isDigit(digits[i]) {
				seq = -1
				break
			}
			seq = 10*seq + int(digits[i]-'0')
		}
		if seq < 0 {
			continue
		}
		if found >= 0 && found != seq {
			return 0, false
		}
		found = seq
	}
	if found < 0 {
		return 0, false
	}
	return found, true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// expect notes that probe seq was sent at t.
func (p *pagerDuty) expect(seq int, t time.Time) {
	p.mu.Lock()
	p.sent[seq] = t
	p.mu.Unlock()
}

// pending is how many sent probes have no notification yet.
func (p *pagerDuty) pending() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for seq := range p.sent {
		if _, ok := p.arrived[seq]; !ok {
			n++
		}
	}
	return n
}

// latencies returns, for every probe sent, the time from its sending to
// its notification's arrival, in sequence order, and how many probes got
// none.
func (p *pagerDuty) latencies() (lat []time.Duration, lost int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	seqs := make([]int, 0, len(p.sent))
	for seq := range p.sent {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		at, ok := p.arrived[seq]
		if !ok {
			lost++
			continue
		}
		lat = append(lat, at.Sub(p.sent[seq]))
	}
	return lat, lost
}

// counts returns the requests received, the triggers that named no probe,
// and the requests refused.
func (p *pagerDuty) counts() (requests, unmatched, invalid int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests, p.unmatched, p.invalid
}
