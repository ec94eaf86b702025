// Package notifytest runs local HTTP servers that behave like the
// receivers of internal/notify as their documentation describes them:
// PagerDuty's Events API v2, a Slack incoming webhook, and a webhook
// receiver that checks mamori's HMAC signature. Tests (and end-to-end
// runs) point notifiers at them and script failures (429, 5xx, a deleted
// hook).
package notifytest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
)

// Reply is a scripted answer, given instead of the normal one.
type Reply struct {
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	Body       string
}

// script holds the replies to give before answering normally.
type script struct {
	smu     sync.Mutex
	replies []Reply
}

// next pops the next scripted reply, if any.
func (s *script) next() (Reply, bool) {
	s.smu.Lock()
	defer s.smu.Unlock()
	if len(s.replies) == 0 {
		return Reply{}, false
	}
	r := s.replies[0]
	s.replies = s.replies[1:]
	return r, true
}

func (s *script) push(r ...Reply) {
	s.smu.Lock()
	defer s.smu.Unlock()
	s.replies = append(s.replies, r...)
}

func (r Reply) write(w http.ResponseWriter) {
	if r.RetryAfter != "" {
		w.Header().Set("Retry-After", r.RetryAfter)
	}
	w.WriteHeader(r.Status)
	_, _ = w.Write([]byte(r.Body))
}

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// server is the common part of the fakes.
type server struct {
	*httptest.Server
	script
	mu       sync.Mutex
	requests int
}

func (s *server) count() {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
}

// Requests counts every request received, refused ones included.
func (s *server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Script queues replies to give, in order, before answering normally
// again.
func (s *server) Script(r ...Reply) { s.push(r...) }
