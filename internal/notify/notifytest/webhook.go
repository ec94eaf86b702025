package notifytest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"
)

// WebhookDelivery is a request the fake receiver accepted.
type WebhookDelivery struct {
	IdempotencyKey string
	Kind           string
	Body           map[string]any
}

// Webhook is a receiver of mamori's generic webhook that checks what a
// careful receiver checks: the X-Mamori-Signature HMAC-SHA256 of the body
// under Secret (else 401), a timestamp in the body equal to the
// X-Mamori-Timestamp header and within Tolerance of its clock (else 401),
// and an Idempotency-Key (else 400), by which it drops repeats (answered
// 200, not recorded again).
type Webhook struct {
	server
	secret     string
	now        func() time.Time
	tolerance  time.Duration
	deliveries []WebhookDelivery
	seen       map[string]bool
	repeats    int
}

// NewWebhook starts a fake receiver checking signatures with secret and
// timestamps against now (time.Now if nil) within five minutes.
func NewWebhook(secret string, now func() time.Time) *Webhook {
	if now == nil {
		now = time.Now
	}
	h := &Webhook{secret: secret, now: now, tolerance: 5 * time.Minute, seen: map[string]bool{}}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	return h
}

// Deliveries returns the accepted deliveries, repeats left out.
func (h *Webhook) Deliveries() []WebhookDelivery {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]WebhookDelivery(nil), h.deliveries...)
}

// Repeats counts deliveries dropped because their Idempotency-Key was seen.
func (h *Webhook) Repeats() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.repeats
}

func (h *Webhook) serve(w http.ResponseWriter, r *http.Request) {
	h.count()
	if reply, ok := h.next(); ok {
		reply.write(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	mac := hmac.New(sha256.New, []byte(h.secret))
	mac.Write(body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(r.Header.Get("X-Mamori-Signature")), []byte(want)) {
		text(w, http.StatusUnauthorized, "bad signature")
		return
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		text(w, http.StatusBadRequest, "not JSON")
		return
	}
	ts, err := strconv.ParseInt(r.Header.Get("X-Mamori-Timestamp"), 10, 64)
	bodyTS, _ := doc["timestamp"].(float64)
	if err != nil || int64(bodyTS) != ts {
		text(w, http.StatusUnauthorized, "timestamp header missing or not the body's")
		return
	}
	if d := h.now().Sub(time.Unix(ts, 0)); d > h.tolerance || d < -h.tolerance {
		text(w, http.StatusUnauthorized, "stale timestamp")
		return
	}
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		text(w, http.StatusBadRequest, "no Idempotency-Key")
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.seen[key] {
		h.repeats++
		w.WriteHeader(http.StatusOK)
		return
	}
	h.seen[key] = true
	h.deliveries = append(h.deliveries, WebhookDelivery{IdempotencyKey: key, Kind: r.Header.Get("X-Mamori-Event"), Body: doc})
	w.WriteHeader(http.StatusNoContent)
}
