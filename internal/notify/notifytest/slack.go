package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
)

// SlackMessage is a message as the fake Slack read it.
type SlackMessage struct {
	Text   string           `json:"text"`
	Blocks []map[string]any `json:"blocks"`
}

// slackHookPath is where the fake's one incoming webhook lives.
const slackHookPath = "/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX"

// Slack is a fake incoming webhook: POST to HookURL with JSON holding text
// or blocks answers 200 "ok"; a body it cannot use answers 400
// "invalid_payload" (or "invalid_blocks"); any other path answers 404
// "no_service", as does the hook after Remove.
type Slack struct {
	server
	messages []SlackMessage
	removed  bool
	arrivals chan SlackMessage
}

// NewSlack starts a fake Slack; Close it when done.
func NewSlack() *Slack {
	s := &Slack{arrivals: make(chan SlackMessage, 1024)}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// HookURL is the incoming webhook's URL.
func (s *Slack) HookURL() string { return s.URL + slackHookPath }

// Remove deletes the webhook, as an admin removing the app would.
func (s *Slack) Remove() {
	s.mu.Lock()
	s.removed = true
	s.mu.Unlock()
}

// Messages returns the messages posted, in order.
func (s *Slack) Messages() []SlackMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SlackMessage(nil), s.messages...)
}

// Arrivals delivers each posted message as it arrives (buffered).
func (s *Slack) Arrivals() <-chan SlackMessage { return s.arrivals }

func text(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

func (s *Slack) serve(w http.ResponseWriter, r *http.Request) {
	s.count()
	s.mu.Lock()
	removed := s.removed
	s.mu.Unlock()
	if r.URL.Path != slackHookPath || removed {
		text(w, http.StatusNotFound, "no_service")
		return
	}
	if r.Method != http.MethodPost {
		text(w, http.StatusMethodNotAllowed, "invalid_method")
		return
	}
	if reply, ok := s.next(); ok {
		reply.write(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	var m SlackMessage
	if err := json.Unmarshal(body, &m); err != nil || (m.Text == "" && len(m.Blocks) == 0) {
		text(w, http.StatusBadRequest, "invalid_payload")
		return
	}
	if !validBlocks(m.Blocks) {
		text(w, http.StatusBadRequest, "invalid_blocks")
		return
	}
	s.mu.Lock()
	s.messages = append(s.messages, m)
	s.mu.Unlock()
	select {
	case s.arrivals <- m:
	default:
	}
	text(w, http.StatusOK, "ok")
}

// validBlocks checks the Block Kit limits mamori relies on: at most 50
// blocks, each typed; header text plain_text of at most 150 characters;
// section text of at most 3000 and at most 10 fields of at most 2000.
func validBlocks(blocks []map[string]any) bool {
	if len(blocks) > 50 {
		return false
	}
	textOf := func(v any) (typ, s string, ok bool) {
		m, ok := v.(map[string]any)
		if !ok {
			return "", "", false
		}
		typ, _ = m["type"].(string)
		s, ok = m["text"].(string)
		return typ, s, ok
	}
	for _, b := range blocks {
		switch b["type"] {
		case "header":
			typ, s, ok := textOf(b["text"])
			if !ok || typ != "plain_text" || len([]rune(s)) > 150 {
				return false
			}
		case "section":
			if t, ok := b["text"]; ok {
				if _, s, ok := textOf(t); !ok || len([]rune(s)) > 3000 {
					return false
				}
			}
			if f, ok := b["fields"]; ok {
				list, ok := f.([]any)
				if !ok || len(list) > 10 {
					return false
				}
				for _, x := range list {
					if _, s, ok := textOf(x); !ok || len([]rune(s)) > 2000 {
						return false
					}
				}
			}
		case "context":
			if _, ok := b["elements"].([]any); !ok {
				return false
			}
		default:
			return false
		}
	}
	return true
}
