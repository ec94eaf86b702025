package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/store"
)

// maxRetryAfter caps the wait a receiver may ask for with Retry-After.
const maxRetryAfter = time.Hour

// dueBatch is how many due rows one store read returns.
const dueBatch = 32

// Sender delivers the outbox: each notifier has its own loop, so a slow or
// failing receiver delays no other. Delivery is at least once: a row is
// marked sent after its receiver accepted it, so a crash in between sends
// it again after the restart, with the same id (PagerDuty's dedup_key and
// the webhook's Idempotency-Key let the receiver drop the repeat; Slack
// has no such key).
type Sender struct {
	st      Store
	cfg     OutboxConfig
	queues  []*queue
	now     func() time.Time
	rand    func() float64
	after   func(time.Duration) <-chan time.Time
	metrics *Metrics
	log     *slog.Logger

	obsMu     sync.Mutex
	observers []func(outboxMark)
}

// outboxMark is a change the sender made to an outbox row.
type outboxMark struct {
	ID, AlertID, Notifier, State string
	Attempts                     int
	Due, DoneAt                  time.Time
}

// observe has f told of every row the sender marks sent, failed or due
// again (a Manager keeps its knowledge of the outbox current with it).
func (s *Sender) observe(f func(outboxMark)) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	s.observers = append(s.observers, f)
}

// marked records a row's new state, once the store has it, and tells the
// observers.
func (s *Sender) marked(err error, r store.OutboxRecord, state string, attempts int, due, done time.Time) error {
	if err != nil {
		return err
	}
	s.obsMu.Lock()
	obs := s.observers
	s.obsMu.Unlock()
	for _, f := range obs {
		f(outboxMark{ID: r.ID, AlertID: r.AlertID, Notifier: r.Notifier, State: state, Attempts: attempts, Due: due, DoneAt: done})
	}
	return nil
}

// queue is one notifier's share of the outbox.
type queue struct {
	n    Notifier
	wake chan struct{}

	mu sync.Mutex // one delivery pass at a time
	// pausedUntil holds off the notifier after a failure it may recover
	// from, so that an outage or a 429 is met with back-off rather than an
	// attempt at every other row.
	pausedUntil time.Time
	// failures counts the notifier's failed attempts since its last
	// success: the back-off grows with the outage, whichever row probes it.
	failures int
}

// SenderOptions are a Sender's collaborators; every field is optional.
type SenderOptions struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand returns jitter in [0, 1) (default math/rand/v2).
	Rand func() float64
	// After is the loop's timer (default time.After).
	After   func(time.Duration) <-chan time.Time
	Metrics *Metrics
	Logger  *slog.Logger
}

// NewSender returns a Sender for the notifiers; their names must be unique.
// Zero fields of cfg take their defaults.
func NewSender(st Store, notifiers []Notifier, cfg OutboxConfig, opts SenderOptions) (*Sender, error) {
	c := Config{Outbox: cfg}
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("outbox config: %w", err)
	}
	s := &Sender{st: st, cfg: c.Outbox, now: opts.Now, rand: opts.Rand, after: opts.After,
		metrics: opts.Metrics, log: opts.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Float64
	}
	if s.after == nil {
		s.after = time.After
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	seen := map[string]bool{}
	for _, n := range notifiers {
		if seen[n.Name()] {
			return nil, fmt.Errorf("outbox: notifier %q given twice", n.Name())
		}
		seen[n.Name()] = true
		s.queues = append(s.queues, &queue{n: n, wake: make(chan struct{}, 1)})
	}
	return s, nil
}

// Wake makes every notifier look for due notifications now, rather than at
// its next poll. It never blocks.
func (s *Sender) Wake() {
	for _, q := range s.queues {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// pruneInterval is how often Run removes old, finished outbox rows.
const pruneInterval = time.Hour

// Run delivers until ctx is done, and prunes finished rows older than
// KeepDone every hour. A delivery cut short by the shutdown stays pending
// and is sent again at the next start.
func (s *Sender) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, q := range s.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.loop(ctx, q)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			if _, err := s.Prune(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("notification outbox: prune", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-s.after(pruneInterval):
			}
		}
	}()
	wg.Wait()
	return ctx.Err()
}

// Prune removes finished outbox rows queued more than KeepDone ago (see
// store.PruneOutbox for what stays), and reports how many.
func (s *Sender) Prune(ctx context.Context) (int64, error) {
	return s.st.PruneOutbox(ctx, s.now().Add(-time.Duration(s.cfg.KeepDone)))
}

func (s *Sender) loop(ctx context.Context, q *queue) {
	for {
		if _, err := s.drain(ctx, q); err != nil && ctx.Err() == nil {
			s.log.Error("notification outbox", "notifier", q.n.Name(), "err", err)
		}
		s.refreshPending(ctx, q)
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
		case <-s.after(time.Duration(s.cfg.PollInterval)):
		}
	}
}

// SendDue makes one delivery pass over every notifier, as Run's loops do,
// and returns how many notifications were delivered. Each notifier stops
// at its first failure that is worth retrying, and waits out its back-off.
func (s *Sender) SendDue(ctx context.Context) (int, error) {
	total := 0
	for _, q := range s.queues {
		n, err := s.drain(ctx, q)
		total += n
		if err != nil {
			return total, err
		}
		s.refreshPending(ctx, q)
	}
	return total, nil
}

func (s *Sender) refreshPending(ctx context.Context, q *queue) {
	if s.metrics == nil {
		return
	}
	counts, err := s.st.OutboxPendingCounts(ctx)
	if err != nil {
		return // the next pass tries again; the gauge keeps its last value
	}
	s.metrics.setPending(q.n.Name(), counts[q.n.Name()])
}

// drain delivers a notifier's due rows until none is due or one fails in a
// way worth retrying.
func (s *Sender) drain(ctx context.Context, q *queue) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	sent := 0
	for {
		now := s.now()
		if now.Before(q.pausedUntil) || ctx.Err() != nil {
			return sent, nil
		}
		rows, err := s.st.DueOutbox(ctx, q.n.Name(), now, dueBatch)
		if err != nil {
			return sent, err
		}
		if len(rows) == 0 {
			return sent, nil
		}
		for _, r := range rows {
			ok, stop, err := s.deliver(ctx, q, r)
			if ok {
				sent++
			}
			if err != nil || stop {
				return sent, err
			}
		}
	}
}

// deliver makes one attempt at a row and records its outcome. stop is
// true when the notifier should not be tried again yet.
func (s *Sender) deliver(ctx context.Context, q *queue, r store.OutboxRecord) (ok, stop bool, err error) {
	name := q.n.Name()
	// The outcome is recorded even when ctx is cancelled meanwhile: a
	// delivered notification marked sent is one not sent twice.
	rec := context.WithoutCancel(ctx)
	attempts := r.Attempts + 1
	var a Alert
	if err := json.Unmarshal(r.Payload, &a); err != nil {
		s.metrics.failedFor(name)
		s.log.Error("notification unreadable, dropped", "notifier", name, "id", r.ID, "alert", r.AlertID, "err", err)
		now := s.now()
		return false, false, s.marked(s.st.MarkOutboxFailed(rec, r.ID, attempts, now, "unreadable payload: "+err.Error()),
			r, store.OutboxFailed, attempts, r.Due, now)
	}
	n := Notification{ID: r.ID, Kind: Kind(r.Kind), Alert: a, NotifiedCount: r.NotifiedCount, Attempt: attempts}
	actx, cancel := context.WithTimeout(ctx, time.Duration(s.cfg.Timeout))
	sendErr := q.n.Notify(actx, n)
	cancel()
	now := s.now()
	if sendErr == nil {
		q.failures = 0
		s.metrics.delivered(name, n.Kind, now.Sub(r.Created).Seconds())
		s.log.Debug("notification sent", "notifier", name, "id", r.ID, "alert", r.AlertID, "kind", r.Kind)
		return true, false, s.marked(s.st.MarkOutboxSent(rec, r.ID, now), r, store.OutboxSent, r.Attempts, r.Due, now)
	}
	if ctx.Err() != nil {
		return false, true, nil // shutting down: the row stays as it was
	}
	msg := sendErr.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	if IsPermanent(sendErr) || (s.cfg.GiveUpAfter > 0 && now.Sub(r.Created) >= time.Duration(s.cfg.GiveUpAfter)) {
		s.metrics.failedFor(name)
		s.log.Error("notification failed for good", "notifier", name, "id", r.ID, "alert", r.AlertID,
			"kind", r.Kind, "attempts", attempts, "err", msg)
		return false, false, s.marked(s.st.MarkOutboxFailed(rec, r.ID, attempts, now, msg), r, store.OutboxFailed, attempts, r.Due, now)
	}
	q.failures++
	delay := s.backoff(max(q.failures, attempts))
	if ra := retryAfter(sendErr); ra > 0 {
		delay = min(ra, maxRetryAfter)
	}
	due := now.Add(delay)
	q.pausedUntil = due
	s.metrics.retry(name)
	s.log.Warn("notification failed, will retry", "notifier", name, "id", r.ID, "alert", r.AlertID,
		"attempts", attempts, "retry_in", delay, "err", msg)
	return false, true, s.marked(s.st.MarkOutboxRetry(rec, r.ID, attempts, due, msg), r, store.OutboxPending, attempts, due, time.Time{})
}

// backoff is the wait after the n-th failed attempt: MinBackoff doubled
// n-1 times, capped at MaxBackoff, of which the upper half is random so
// that many senders do not retry in step.
func (s *Sender) backoff(n int) time.Duration {
	d, most := time.Duration(s.cfg.MinBackoff), time.Duration(s.cfg.MaxBackoff)
	for i := 1; i < n && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	return d/2 + time.Duration(s.rand()*float64(d/2))
}
