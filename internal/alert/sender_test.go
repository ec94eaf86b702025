package alert_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/notify"
	"github.com/mamori-sec/mamori/internal/notify/notifytest"
	"github.com/mamori-sec/mamori/internal/store"
)

const routingKey = "R0UT1NGKEY0123456789abcdefABCDEF"

// rig is a manager and a sender over one store, with fake receivers.
type rig struct {
	t      *testing.T
	st     alert.Store
	clock  *clock
	pd     *notifytest.PagerDuty
	slack  *notifytest.Slack
	hook   *notifytest.Webhook
	m      *alert.Manager
	s      *alert.Sender
	cfg    alert.Config
	metric *alert.Metrics
}

// newRig configures the notifiers named in which (pd, slack, webhook),
// routed everything, with outbox settings from out. The sender reports to
// the manager what became of its notifications.
func newRig(t *testing.T, st alert.Store, c *clock, out alert.OutboxConfig, which ...string) *rig {
	t.Helper()
	return newRigWith(t, st, c, out, true, which...)
}

// newRigWith is newRig; with tracked false the manager is not told by the
// sender and reads the outbox to learn what it did.
func newRigWith(t *testing.T, st alert.Store, c *clock, out alert.OutboxConfig, tracked bool, which ...string) *rig {
	t.Helper()
	r := &rig{t: t, st: st, clock: c}
	r.pd = notifytest.NewPagerDuty()
	r.slack = notifytest.NewSlack()
	r.hook = notifytest.NewWebhook("s3cret", c.Now)
	t.Cleanup(func() { r.pd.Close(); r.slack.Close(); r.hook.Close() })
	var ns []alert.Notifier
	opts := notify.Options{Now: c.Now, ConsoleURL: "https://mamori.example.com"}
	for _, w := range which {
		var n alert.Notifier
		var err error
		switch w {
		case "pd":
			r.cfg.Notifiers = append(r.cfg.Notifiers, alert.NotifierConfig{Name: "pd", Type: "pagerduty", RoutingKey: alert.Secret{Env: "X"}})
			n, err = notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: r.pd.EnqueueURL(), RoutingKey: routingKey}, opts)
		case "slack":
			r.cfg.Notifiers = append(r.cfg.Notifiers, alert.NotifierConfig{Name: "slack", Type: "slack", WebhookURL: alert.Secret{Env: "X"}})
			n, err = notify.NewSlack(notify.SlackConfig{Name: "slack", WebhookURL: r.slack.HookURL()}, opts)
		case "webhook":
			r.cfg.Notifiers = append(r.cfg.Notifiers, alert.NotifierConfig{Name: "webhook", Type: "webhook", URL: r.hook.URL, Secret: alert.Secret{Env: "X"}})
			n, err = notify.NewWebhook(notify.WebhookConfig{Name: "webhook", URL: r.hook.URL, Secret: "s3cret"}, opts)
		}
		if err != nil {
			t.Fatal(err)
		}
		ns = append(ns, n)
	}
	var err error
	if r.metric, err = alert.NewMetrics(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	r.cfg.Outbox = out
	// Jitter fixed at the middle: every wait is 3/4 of the doubled back-off.
	r.s, err = alert.NewSender(st, ns, out, alert.SenderOptions{Now: c.Now, Rand: func() float64 { return 0.5 }, Metrics: r.metric})
	if err != nil {
		t.Fatal(err)
	}
	mopts := alert.Options{Now: c.Now, Metrics: r.metric}
	if tracked {
		mopts.Sender = r.s
	}
	if r.m, err = alert.NewManager(st, r.cfg, mopts); err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) send() int {
	r.t.Helper()
	n, err := r.s.SendDue(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return n
}

func (r *rig) delivery(alertID string, i int) alert.Delivery {
	r.t.Helper()
	ds, err := r.m.Deliveries(context.Background(), alertID)
	if err != nil || len(ds) <= i {
		r.t.Fatalf("deliveries of %s: %v %v", alertID, ds, err)
	}
	return ds[i]
}

func TestSenderDeliversOnce(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRig(t, st, c, alert.OutboxConfig{}, "pd", "slack", "webhook")
	a := handle(t, r.m, match("ssh", "e1", t0, "203.0.113.7")).Raised[0]
	if n := r.send(); n != 3 {
		t.Fatalf("sent %d, want 3", n)
	}
	if n := r.send(); n != 0 {
		t.Fatalf("second pass sent %d", n)
	}
	if r.pd.Opened() != 1 || len(r.slack.Messages()) != 1 || len(r.hook.Deliveries()) != 1 {
		t.Fatalf("pd %d slack %d webhook %d", r.pd.Opened(), len(r.slack.Messages()), len(r.hook.Deliveries()))
	}
	if ev := r.pd.Events()[0]; ev.DedupKey != a.ID || ev.EventAction != "trigger" {
		t.Errorf("pd event: %+v", ev)
	}
	for i := range 3 {
		if d := r.delivery(a.ID, i); d.State != "sent" || d.Attempts != 0 || !d.Done.Equal(t0) {
			t.Errorf("delivery %d: %+v", i, d)
		}
	}
	if got := alert.Value(r.metricSent("pd", "trigger")); got != 1 {
		t.Errorf("sent metric %v", got)
	}
}

func (r *rig) metricSent(notifier, kind string) prometheus.Collector {
	return alert.MetricsSent(r.metric, notifier, kind)
}

func TestBackoffDoublesWithJitterAndPausesTheNotifier(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRig(t, st, c, alert.OutboxConfig{MinBackoff: alert.Duration(time.Second), MaxBackoff: alert.Duration(4 * time.Second)}, "pd")
	a := handle(t, r.m, match("r", "e1", t0, "a")).Raised[0]
	b := handle(t, r.m, match("r", "e2", t0, "b")).Raised[0]
	r.pd.Script(notifytest.Reply{Status: 503}, notifytest.Reply{Status: 500}, notifytest.Reply{Status: 502}, notifytest.Reply{Status: 503})

	// The two rows take turns probing the receiver; the wait grows with the
	// outage: 3/4 of 1 s, 2 s, 4 s, 4 s (capped).
	waits := []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 3 * time.Second}
	for i, wait := range waits {
		if n := r.send(); n != 0 {
			t.Fatalf("attempt %d: sent %d during the outage", i+1, n)
		}
		if got := r.pd.Requests(); got != i+1 {
			t.Fatalf("attempt %d: %d requests, want %d (one probe per pass, not one per row)", i+1, got, i+1)
		}
		da, db := r.delivery(a.ID, 0), r.delivery(b.ID, 0)
		if da.Attempts+db.Attempts != i+1 {
			t.Fatalf("attempt %d: attempts %d + %d", i+1, da.Attempts, db.Attempts)
		}
		probe := da // the row just tried is the one due in the future
		if db.Due.After(c.Now()) {
			probe = db
		}
		if !probe.Due.Equal(c.Now().Add(wait)) || !strings.Contains(probe.LastError, "HTTP 50") {
			t.Fatalf("attempt %d: %+v, want due in %v", i+1, probe, wait)
		}
		if got := alert.Value(alert.MetricsPending(r.metric, "pd")); got != 2 {
			t.Fatalf("attempt %d: pending gauge %v, want 2", i+1, got)
		}
		// Nothing is tried before the back-off is over.
		c.Advance(wait - time.Millisecond)
		r.send()
		if r.pd.Requests() != i+1 {
			t.Fatalf("attempt %d: retried early", i+1)
		}
		c.Advance(time.Millisecond)
	}
	if n := r.send(); n != 2 {
		t.Fatalf("after the outage: sent %d, want both", n)
	}
	if r.delivery(a.ID, 0).State != "sent" || r.delivery(b.ID, 0).State != "sent" || r.pd.Opened() != 2 {
		t.Fatalf("after the outage: opened %d", r.pd.Opened())
	}
	if got := alert.Value(alert.MetricsRetried(r.metric, "pd")); got != 4 {
		t.Errorf("retried metric %v, want 4", got)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRig(t, st, c, alert.OutboxConfig{}, "slack")
	a := handle(t, r.m, match("r", "e1", t0)).Raised[0]
	r.slack.Script(notifytest.Reply{Status: 429, RetryAfter: "120", Body: "rate_limited"})
	r.send()
	if d := r.delivery(a.ID, 0); !d.Due.Equal(t0.Add(120*time.Second)) || d.State != "pending" {
		t.Fatalf("after 429: %+v", d)
	}
	c.Advance(119 * time.Second)
	if r.send(); r.slack.Requests() != 1 {
		t.Fatal("retried before Retry-After")
	}
	c.Advance(time.Second)
	if n := r.send(); n != 1 || len(r.slack.Messages()) != 1 {
		t.Fatalf("after Retry-After: sent %d", n)
	}
}

func TestPermanentFailureIsNotRetried(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRig(t, st, c, alert.OutboxConfig{}, "pd")
	a := handle(t, r.m, match("r", "e1", t0, "a")).Raised[0]
	b := handle(t, r.m, match("r", "e2", t0, "b")).Raised[0]
	r.pd.Script(notifytest.Reply{Status: 400, Body: `{"status":"invalid event","message":"Event object is invalid","errors":["'payload.summary' is missing or blank"]}`})
	// The refusal is about that event, not the receiver: the next row goes.
	if n := r.send(); n != 1 {
		t.Fatalf("sent %d, want the other row", n)
	}
	d := r.delivery(a.ID, 0)
	if d.State != "failed" || d.Attempts != 1 || !strings.Contains(d.LastError, "payload.summary") {
		t.Fatalf("refused row: %+v", d)
	}
	if r.delivery(b.ID, 0).State != "sent" {
		t.Fatal("the next row was not sent")
	}
	c.Advance(time.Hour)
	if r.send(); r.pd.Requests() != 2 {
		t.Fatalf("a failed row was retried: %d requests", r.pd.Requests())
	}
	if got := alert.Value(alert.MetricsFailed(r.metric, "pd")); got != 1 {
		t.Errorf("failed metric %v", got)
	}

	// A Slack hook that was removed fails for good with a clear reason.
	r2 := newRig(t, st, c, alert.OutboxConfig{}, "slack")
	x := handle(t, r2.m, match("s", "e3", c.Now())).Raised[0]
	r2.slack.Remove()
	r2.send()
	if d := r2.delivery(x.ID, 0); d.State != "failed" || !strings.Contains(d.LastError, "webhook is gone") {
		t.Fatalf("removed hook: %+v", d)
	}
}

func TestGiveUpAfter(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRig(t, st, c, alert.OutboxConfig{MinBackoff: alert.Duration(time.Minute), MaxBackoff: alert.Duration(time.Minute), GiveUpAfter: alert.Duration(10 * time.Minute)}, "pd")
	a := handle(t, r.m, match("r", "e1", t0)).Raised[0]
	for range 20 {
		r.pd.Script(notifytest.Reply{Status: 503})
	}
	for c.Now().Before(t0.Add(11 * time.Minute)) {
		r.send()
		c.Advance(time.Minute)
	}
	d := r.delivery(a.ID, 0)
	if d.State != "failed" || d.Attempts < 10 {
		t.Fatalf("after 11 minutes of 503: %+v", d)
	}
}

func TestResolveNeverOvertakesItsTrigger(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRig(t, st, c, alert.OutboxConfig{MinBackoff: alert.Duration(time.Minute), MaxBackoff: alert.Duration(time.Minute)}, "pd")
	a := handle(t, r.m, match("r", "e1", t0)).Raised[0]
	r.pd.Script(notifytest.Reply{Status: 503})
	r.send() // the trigger fails; retry in 45 s
	if _, err := r.m.Resolve(context.Background(), a.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	r.s.Wake()
	c.Advance(time.Second)
	if r.send(); r.pd.Requests() != 1 {
		t.Fatal("the resolve went out while its trigger waited")
	}
	c.Advance(time.Minute)
	if n := r.send(); n != 2 {
		t.Fatalf("sent %d, want trigger and resolve", n)
	}
	var actions []string
	for _, ev := range r.pd.Events() {
		actions = append(actions, ev.EventAction)
	}
	if !reflect.DeepEqual(actions, []string{"trigger", "resolve"}) {
		t.Fatalf("order: %v", actions)
	}
	if st, _ := r.pd.Alert(a.ID); st.Status != "resolved" {
		t.Fatalf("PagerDuty alert: %+v", st)
	}
}

func TestAckResolveFlowReachesPagerDuty(t *testing.T) {
	for _, tracked := range []bool{true, false} {
		t.Run(fmt.Sprintf("tracked=%v", tracked), func(t *testing.T) { testAckResolveFlow(t, tracked) })
	}
}

func testAckResolveFlow(t *testing.T, tracked bool) {
	st := openStore(t, "")
	defer st.Close()
	c := &clock{t: t0}
	r := newRigWith(t, st, c, alert.OutboxConfig{}, tracked, "pd", "slack")
	ctx := context.Background()
	a := handle(t, r.m, match("ssh", "e1", t0, "203.0.113.7")).Raised[0]
	r.send()
	// Three more events: pd hears at once (after its 1 min update
	// interval), slack in a digest 15 min after its first message.
	c.Advance(2 * time.Minute)
	handle(t, r.m, match("ssh", "e2", c.Now(), "203.0.113.7"), match("ssh", "e3", c.Now(), "203.0.113.7"))
	c.Advance(time.Second)
	handle(t, r.m, match("ssh", "e4", c.Now(), "203.0.113.7"))
	if n := r.send(); n != 1 {
		t.Fatalf("sent %d updates, want pd's only", n)
	}
	if st, _ := r.pd.Alert(a.ID); st.Triggers != 2 || !strings.Contains(st.Summary, "(4 events)") || r.pd.Opened() != 1 {
		t.Fatalf("pd after update: %+v opened %d", st, r.pd.Opened())
	}
	c.Advance(15 * time.Minute)
	if n := r.send(); n != 1 {
		t.Fatalf("sent %d, want slack's digest", n)
	}
	msgs := r.slack.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Text, "+3 events for") || !strings.Contains(msgs[1].Text, "4 events in all") {
		t.Fatalf("slack digest: %+v", msgs)
	}

	if _, err := r.m.Acknowledge(ctx, a.ID, "alice"); err != nil {
		t.Fatal(err)
	}
	r.send()
	if st, _ := r.pd.Alert(a.ID); st.Status != "acknowledged" {
		t.Fatalf("pd after acknowledge: %+v", st)
	}
	if _, err := r.m.Resolve(ctx, a.ID, "bob"); err != nil {
		t.Fatal(err)
	}
	r.send()
	if st, _ := r.pd.Alert(a.ID); st.Status != "resolved" {
		t.Fatalf("pd after resolve: %+v", st)
	}
	msgs = r.slack.Messages()
	if len(msgs) != 4 || !strings.Contains(msgs[2].Text, "Acknowledged by alice") || !strings.Contains(msgs[3].Text, "Resolved by bob") {
		t.Fatalf("slack: %+v", msgs)
	}
	if r.pd.Opened() != 1 {
		t.Errorf("one alert paged %d times", r.pd.Opened())
	}
	if raised, updated := alert.Value(alert.MetricsRaised(r.metric, "high")), alert.Value(alert.MetricsUpdated(r.metric, "high")); raised != 1 || updated != 2 {
		t.Errorf("metrics: raised %v updated %v, want 1 and 2", raised, updated)
	}
	if p := alert.Value(alert.MetricsPending(r.metric, "pd")) + alert.Value(alert.MetricsPending(r.metric, "slack")); p != 0 {
		t.Errorf("pending gauge %v after everything was sent", p)
	}

	// A week later the history is pruned, but for the newest row per
	// notifier; nothing is sent again.
	before, _ := r.m.Deliveries(ctx, a.ID)
	c.Advance(8 * 24 * time.Hour)
	n, err := r.s.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after, _ := r.m.Deliveries(ctx, a.ID)
	if int(n) != len(before)-2 || len(after) != 2 || after[0].Kind != alert.Resolve || after[1].Kind != alert.Resolve {
		t.Fatalf("pruned %d of %d, left %+v", n, len(before), after)
	}
	if sent := r.send(); sent != 0 {
		t.Fatalf("sent %d after pruning", sent)
	}
}

// crashingStore is the store of a process that dies right after a
// receiver accepted a notification, before the outbox row is marked sent:
// after that point it writes nothing.
type crashingStore struct {
	*store.Store
	mu        sync.Mutex
	marksLeft int
	dead      bool
}

var errCrash = errors.New("process killed")

func (s *crashingStore) MarkOutboxSent(ctx context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dead || s.marksLeft == 0 {
		s.dead = true
		return errCrash
	}
	s.marksLeft--
	return s.Store.MarkOutboxSent(ctx, id, at)
}

func (s *crashingStore) DueOutbox(ctx context.Context, notifier string, now time.Time, limit int) ([]store.OutboxRecord, error) {
	s.mu.Lock()
	dead := s.dead
	s.mu.Unlock()
	if dead {
		return nil, errCrash
	}
	return s.Store.DueOutbox(ctx, notifier, now, limit)
}

func TestOutboxSurvivesACrash(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mamori.duckdb")
	c := &clock{t: t0}

	// Run 1 stores three alerts and dies before notifying anything.
	st := openStore(t, path)
	r := newRig(t, st, c, alert.OutboxConfig{}, "pd", "webhook")
	var as []alert.Alert
	for _, key := range []string{"a", "b", "c"} {
		as = append(as, handle(t, r.m, match("r", "e-"+key, t0, key)).Raised...)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 2 delivers the first alert to PagerDuty, delivers the second and
	// dies before marking it sent.
	st = openStore(t, path)
	cs := &crashingStore{Store: st, marksLeft: 1}
	s2, err := alert.NewSender(cs, []alert.Notifier{pdNotifier(t, r.pd, c), hookNotifier(t, r.hook, c)}, alert.OutboxConfig{}, alert.SenderOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.SendDue(ctx); !errors.Is(err, errCrash) {
		t.Fatalf("run 2: %v", err)
	}
	if got := len(r.pd.Events()); got != 2 {
		t.Fatalf("run 2 delivered %d to PagerDuty, want 2 (the second unmarked)", got)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Run 3 resumes: the unmarked row again (PagerDuty deduplicates it),
	// the third alert, and every webhook delivery; nothing twice that was
	// marked sent.
	st = openStore(t, path)
	defer st.Close()
	s3, err := alert.NewSender(st, []alert.Notifier{pdNotifier(t, r.pd, c), hookNotifier(t, r.hook, c)}, alert.OutboxConfig{}, alert.SenderOptions{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s3.SendDue(ctx); err != nil || n != 5 {
		t.Fatalf("run 3: sent %d, %v; want 2 to PagerDuty and 3 to the webhook", n, err)
	}
	if n, _ := s3.SendDue(ctx); n != 0 {
		t.Fatalf("run 3, second pass: sent %d", n)
	}
	perKey := map[string]int{}
	for _, ev := range r.pd.Events() {
		perKey[ev.DedupKey]++
	}
	want := map[string]int{as[0].ID: 1, as[1].ID: 2, as[2].ID: 1}
	if !reflect.DeepEqual(perKey, want) || r.pd.Opened() != 3 {
		t.Fatalf("PagerDuty events per alert %v (want %v), pages %d (want 3)", perKey, want, r.pd.Opened())
	}
	if len(r.hook.Deliveries()) != 3 || r.hook.Repeats() != 0 {
		t.Fatalf("webhook: %d deliveries, %d repeats", len(r.hook.Deliveries()), r.hook.Repeats())
	}
	// Run 4: nothing left.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = openStore(t, path)
	s4, _ := alert.NewSender(st, []alert.Notifier{pdNotifier(t, r.pd, c), hookNotifier(t, r.hook, c)}, alert.OutboxConfig{}, alert.SenderOptions{Now: c.Now})
	if n, err := s4.SendDue(ctx); err != nil || n != 0 {
		t.Fatalf("run 4 sent %d, %v", n, err)
	}
	counts, _ := st.OutboxPendingCounts(ctx)
	if len(counts) != 0 {
		t.Fatalf("pending after all runs: %v", counts)
	}
	st.Close()
}

func TestWebhookRepeatAfterCrashIsDroppedByItsKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mamori.duckdb")
	c := &clock{t: t0}
	st := openStore(t, path)
	r := newRig(t, st, c, alert.OutboxConfig{}, "webhook")
	handle(t, r.m, match("r", "e1", t0))
	cs := &crashingStore{Store: st} // dies at the first mark
	s, _ := alert.NewSender(cs, []alert.Notifier{hookNotifier(t, r.hook, c)}, alert.OutboxConfig{}, alert.SenderOptions{Now: c.Now})
	if _, err := s.SendDue(ctx); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	st.Close()
	st = openStore(t, path)
	defer st.Close()
	s, _ = alert.NewSender(st, []alert.Notifier{hookNotifier(t, r.hook, c)}, alert.OutboxConfig{}, alert.SenderOptions{Now: c.Now})
	if n, err := s.SendDue(ctx); err != nil || n != 1 {
		t.Fatalf("resend: %d %v", n, err)
	}
	if len(r.hook.Deliveries()) != 1 || r.hook.Repeats() != 1 {
		t.Fatalf("receiver: %d deliveries, %d repeats; want 1 and 1", len(r.hook.Deliveries()), r.hook.Repeats())
	}
}

func pdNotifier(t *testing.T, pd *notifytest.PagerDuty, c *clock) alert.Notifier {
	n, err := notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: pd.EnqueueURL(), RoutingKey: routingKey}, notify.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func hookNotifier(t *testing.T, h *notifytest.Webhook, c *clock) alert.Notifier {
	n, err := notify.NewWebhook(notify.WebhookConfig{Name: "webhook", URL: h.URL, Secret: "s3cret"}, notify.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRunDeliversOnWake(t *testing.T) {
	st := openStore(t, "")
	defer st.Close()
	pd := notifytest.NewPagerDuty()
	defer pd.Close()
	never := make(chan time.Time) // the poll timer never fires: only Wake can start a pass
	s, err := alert.NewSender(st, []alert.Notifier{pdNotifier(t, pd, &clock{t: t0})}, alert.OutboxConfig{},
		alert.SenderOptions{After: func(time.Duration) <-chan time.Time { return never }})
	if err != nil {
		t.Fatal(err)
	}
	zero := alert.Duration(0)
	m, err := alert.NewManager(st, alert.Config{Notifiers: []alert.NotifierConfig{
		{Name: "pd", Type: "pagerduty", RoutingKey: alert.Secret{Env: "X"}, UpdateInterval: &zero}}},
		alert.Options{Stored: s.Wake})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	res, err := m.Handle(ctx, []alert.Match{match("r", "e1", time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-pd.Arrivals():
		if ev.DedupKey != res.Raised[0].ID {
			t.Fatalf("got %+v", ev)
		}
	case <-time.After(10 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("no delivery after Wake")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestNewSenderRefusesDuplicateNames(t *testing.T) {
	pd := notifytest.NewPagerDuty()
	defer pd.Close()
	c := &clock{t: t0}
	if _, err := alert.NewSender(nil, []alert.Notifier{pdNotifier(t, pd, c), pdNotifier(t, pd, c)}, alert.OutboxConfig{}, alert.SenderOptions{}); err == nil {
		t.Fatal("two notifiers named pd accepted")
	}
}
