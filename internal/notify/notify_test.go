package notify_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/notify"
	"github.com/mamori-sec/mamori/internal/notify/notifytest"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

const routingKey = "R0UT1NGKEY0123456789abcdefABCDEF" // 32 characters, as PagerDuty requires

func sample(kind alert.Kind) alert.Notification {
	return alert.Notification{
		ID:   "01JD0000000000000000000001",
		Kind: kind,
		Alert: alert.Alert{
			ID: "01JD00000000000000000000AA", RuleID: "ssh-brute-force", RuleTitle: "SSH brute force then success",
			Severity: alert.High, Title: "SSH brute force then success: 203.0.113.7",
			Summary: "12 failed logins for <!channel> & root from 203.0.113.7, then a success", Dataset: "linux.syslog",
			GroupKey: []string{"203.0.113.7"}, FirstSeen: t0, LastSeen: t0.Add(5 * time.Minute),
			EventCount: 13, MatchCount: 1, EventIDs: []string{"e1", "e2"}, Status: alert.Open, Version: 1,
			AcknowledgedBy: "alice", ResolvedBy: "bob",
		},
		NotifiedCount: 4,
		Attempt:       1,
	}
}

func opts() notify.Options {
	return notify.Options{ConsoleURL: "https://mamori.example.com/", Now: func() time.Time { return t0 }}
}

func TestPagerDutyTriggerIsAValidEvent(t *testing.T) {
	pd := notifytest.NewPagerDuty()
	defer pd.Close()
	n, err := notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: pd.EnqueueURL(), RoutingKey: routingKey}, opts())
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Notify(context.Background(), sample(alert.Trigger)); err != nil {
		t.Fatalf("trigger: %v", err)
	}
	evs := pd.Events()
	if len(evs) != 1 {
		t.Fatalf("got %d events", len(evs))
	}
	ev := evs[0]
	a := sample(alert.Trigger).Alert
	if ev.RoutingKey != routingKey || ev.EventAction != "trigger" || ev.DedupKey != a.ID {
		t.Errorf("envelope: %+v", ev)
	}
	p := ev.Payload
	if p.Severity != "error" { // high → error
		t.Errorf("severity %q, want error", p.Severity)
	}
	if want := "[HIGH] SSH brute force then success: 203.0.113.7 (13 events)"; p.Summary != want {
		t.Errorf("summary %q, want %q", p.Summary, want)
	}
	if p.Source != "203.0.113.7" || p.Component != "linux.syslog" || p.Group != "ssh-brute-force" ||
		p.Class != "SSH brute force then success" || p.Timestamp != "2026-11-20T10:05:00Z" {
		t.Errorf("payload: %+v", p)
	}
	if p.CustomDetails["alert_id"] != a.ID || p.CustomDetails["event_count"] != float64(13) {
		t.Errorf("custom_details: %v", p.CustomDetails)
	}
	link := "https://mamori.example.com/alerts/" + a.ID
	if ev.ClientURL != link || len(ev.Links) != 1 || ev.Links[0].Href != link {
		t.Errorf("links: client_url %q links %+v", ev.ClientURL, ev.Links)
	}
	// An update is a trigger with the same dedup_key: the same PagerDuty alert.
	if err := n.Notify(context.Background(), sample(alert.Update)); err != nil {
		t.Fatal(err)
	}
	if pd.Opened() != 1 {
		t.Errorf("an update opened another PagerDuty alert: %d opened", pd.Opened())
	}
	if st, _ := pd.Alert(a.ID); st.Triggers != 2 || st.Status != "triggered" {
		t.Errorf("after update: %+v", st)
	}
}

func TestPagerDutySeverityMapping(t *testing.T) {
	pd := notifytest.NewPagerDuty()
	defer pd.Close()
	n, _ := notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: pd.EnqueueURL(), RoutingKey: routingKey}, opts())
	want := map[alert.Severity]string{alert.Critical: "critical", alert.High: "error", alert.Medium: "warning",
		alert.Low: "info", alert.Informational: "info"}
	for sev, pdSev := range want {
		nt := sample(alert.Trigger)
		nt.Alert.Severity = sev
		nt.Alert.ID = "id-" + string(sev)
		if err := n.Notify(context.Background(), nt); err != nil {
			t.Fatalf("%s: %v", sev, err)
		}
		evs := pd.Events()
		if got := evs[len(evs)-1].Payload.Severity; got != pdSev {
			t.Errorf("%s → %s, want %s", sev, got, pdSev)
		}
	}
}

func TestPagerDutyAcknowledgeAndResolve(t *testing.T) {
	pd := notifytest.NewPagerDuty()
	defer pd.Close()
	n, _ := notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: pd.EnqueueURL(), RoutingKey: routingKey}, opts())
	ctx := context.Background()
	id := sample(alert.Trigger).Alert.ID
	for _, k := range []alert.Kind{alert.Trigger, alert.Acknowledge} {
		if err := n.Notify(ctx, sample(k)); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := pd.Alert(id); st.Status != "acknowledged" {
		t.Fatalf("after acknowledge: %+v", st)
	}
	if err := n.Notify(ctx, sample(alert.Resolve)); err != nil {
		t.Fatal(err)
	}
	if st, _ := pd.Alert(id); st.Status != "resolved" {
		t.Fatalf("after resolve: %+v", st)
	}
	evs := pd.Events()
	for _, ev := range evs[1:] {
		if ev.Payload != nil || ev.DedupKey != id {
			t.Errorf("%s carries a payload or another key: %+v", ev.EventAction, ev)
		}
	}
}

func TestPagerDutyAnswers(t *testing.T) {
	pd := notifytest.NewPagerDuty()
	defer pd.Close()
	ctx := context.Background()
	good, _ := notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: pd.EnqueueURL(), RoutingKey: routingKey}, opts())

	// 400: the event is invalid; retrying cannot help.
	badKey := "short-key-not-32"
	bad, _ := notify.NewPagerDuty(notify.PagerDutyConfig{Name: "pd", URL: pd.EnqueueURL(), RoutingKey: badKey}, opts())
	err := bad.Notify(ctx, sample(alert.Trigger))
	if err == nil || !alert.IsPermanent(err) {
		t.Fatalf("400: got %v, want a permanent error", err)
	}
	if !strings.Contains(err.Error(), "routing_key") || !strings.Contains(err.Error(), "400") {
		t.Errorf("400 error does not say what PagerDuty said: %v", err)
	}
	if strings.Contains(err.Error(), badKey) {
		t.Errorf("error leaks the routing key: %v", err)
	}

	// 429 with and without Retry-After: retry, later.
	pd.Script(notifytest.Reply{Status: 429, RetryAfter: "7"}, notifytest.Reply{Status: 429})
	for _, want := range []time.Duration{7 * time.Second, 0} {
		err := good.Notify(ctx, sample(alert.Trigger))
		var de *alert.DeliveryError
		if err == nil || alert.IsPermanent(err) {
			t.Fatalf("429: got %v, want a retryable error", err)
		}
		if want > 0 && (!asDelivery(err, &de) || de.RetryAfter != want) {
			t.Errorf("429: retry after %v, want %v", de, want)
		}
	}
	// 5xx: retry.
	for _, status := range []int{500, 502, 503, 504} {
		pd.Script(notifytest.Reply{Status: status, Body: "upstream trouble"})
		err := good.Notify(ctx, sample(alert.Trigger))
		if err == nil || alert.IsPermanent(err) {
			t.Errorf("%d: got %v, want a retryable error", status, err)
		}
	}
	// Then it works, once.
	if err := good.Notify(ctx, sample(alert.Trigger)); err != nil {
		t.Fatal(err)
	}
	if len(pd.Events()) != 1 || pd.Opened() != 1 {
		t.Errorf("accepted %d events, opened %d", len(pd.Events()), pd.Opened())
	}
}

func asDelivery(err error, de **alert.DeliveryError) bool { return errors.As(err, de) }

func TestSlackMessages(t *testing.T) {
	sl := notifytest.NewSlack()
	defer sl.Close()
	n, err := notify.NewSlack(notify.SlackConfig{Name: "soc", WebhookURL: sl.HookURL()}, opts())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, k := range []alert.Kind{alert.Trigger, alert.Update, alert.Acknowledge, alert.Resolve} {
		if err := n.Notify(ctx, sample(k)); err != nil {
			t.Fatalf("%s: %v", k, err)
		}
	}
	msgs := sl.Messages()
	if len(msgs) != 4 {
		t.Fatalf("got %d messages", len(msgs))
	}
	raw := allText(msgs[0])
	if strings.Contains(raw, "<!channel>") {
		t.Errorf("an event's text reached Slack unescaped (would notify the channel): %s", raw)
	}
	if !strings.Contains(raw, "&lt;!channel&gt; &amp; root") {
		t.Errorf("summary not escaped as Slack wants: %s", raw)
	}
	if msgs[0].Blocks[0]["type"] != "header" || !strings.Contains(msgs[0].Text, "[HIGH] SSH brute force then success") {
		t.Errorf("trigger message: %s", raw)
	}
	if !strings.Contains(raw, "<https://mamori.example.com/alerts/01JD00000000000000000000AA|") {
		t.Errorf("no link to the console: %s", raw)
	}
	for i, want := range []string{"+9 events for [HIGH]", "Acknowledged by alice", "Resolved by bob"} {
		if !strings.Contains(msgs[i+1].Text, want) {
			t.Errorf("message %d: %q does not say %q", i+1, msgs[i+1].Text, want)
		}
	}
}

// allText joins every "text" string of a message, as Slack would read them.
func allText(m notifytest.SlackMessage) string {
	var b strings.Builder
	b.WriteString(m.Text)
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "text" {
					b.WriteString("\n" + s)
				} else {
					walk(e)
				}
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, bl := range m.Blocks {
		walk(bl)
	}
	return b.String()
}

func TestSlackAnswers(t *testing.T) {
	sl := notifytest.NewSlack()
	defer sl.Close()
	ctx := context.Background()
	n, _ := notify.NewSlack(notify.SlackConfig{Name: "soc", WebhookURL: sl.HookURL()}, opts())

	sl.Script(notifytest.Reply{Status: 429, RetryAfter: "30", Body: "rate_limited"})
	err := n.Notify(ctx, sample(alert.Trigger))
	var de *alert.DeliveryError
	if err == nil || alert.IsPermanent(err) || !asDelivery(err, &de) || de.RetryAfter != 30*time.Second {
		t.Fatalf("429: got %v, want retry after 30s", err)
	}
	sl.Script(notifytest.Reply{Status: 503})
	if err := n.Notify(ctx, sample(alert.Trigger)); err == nil || alert.IsPermanent(err) {
		t.Fatalf("503: got %v, want retryable", err)
	}
	if len(sl.Messages()) != 0 {
		t.Fatal("refused requests were recorded")
	}

	sl.Remove()
	err = n.Notify(ctx, sample(alert.Trigger))
	if err == nil || !alert.IsPermanent(err) || !strings.Contains(err.Error(), "gone") || !strings.Contains(err.Error(), "no_service") {
		t.Fatalf("removed hook: got %v, want a permanent 'gone' error", err)
	}
	if strings.Contains(err.Error(), sl.HookURL()) || strings.Contains(err.Error(), "XXXXXXXX") {
		t.Errorf("error leaks the webhook URL: %v", err)
	}

	// The webhook URL is a secret: even a transport error must not show it.
	sl.Close()
	err = n.Notify(ctx, sample(alert.Trigger))
	if err == nil || alert.IsPermanent(err) {
		t.Fatalf("server down: got %v, want retryable", err)
	}
	if strings.Contains(err.Error(), "/services/") {
		t.Errorf("transport error leaks the webhook URL: %v", err)
	}
}

func TestWebhookIsSignedAndIdempotent(t *testing.T) {
	now := t0
	clock := func() time.Time { return now }
	recv := notifytest.NewWebhook("s3cret", clock)
	defer recv.Close()
	n, err := notify.NewWebhook(notify.WebhookConfig{Name: "siem", URL: recv.URL, Secret: "s3cret"},
		notify.Options{ConsoleURL: "https://mamori.example.com", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	nt := sample(alert.Trigger)
	if err := n.Notify(ctx, nt); err != nil {
		t.Fatalf("signed delivery refused: %v", err)
	}
	// A retry of the same notification (same id) is dropped by the receiver.
	now = now.Add(time.Minute)
	if err := n.Notify(ctx, nt); err != nil {
		t.Fatal(err)
	}
	d := recv.Deliveries()
	if len(d) != 1 || recv.Repeats() != 1 {
		t.Fatalf("deliveries %d, repeats %d; want 1 and 1", len(d), recv.Repeats())
	}
	if d[0].IdempotencyKey != nt.ID || d[0].Kind != "trigger" {
		t.Errorf("headers: %+v", d[0])
	}
	body := d[0].Body
	al, _ := body["alert"].(map[string]any)
	if body["id"] != nt.ID || body["kind"] != "trigger" || al["id"] != nt.Alert.ID || al["event_count"] != float64(13) ||
		body["link"] != "https://mamori.example.com/alerts/"+nt.Alert.ID {
		t.Errorf("body: %v", body)
	}

	// A notifier with the wrong secret is refused for good (401).
	wrong, _ := notify.NewWebhook(notify.WebhookConfig{Name: "siem", URL: recv.URL, Secret: "guess"}, notify.Options{Now: clock})
	if err := wrong.Notify(ctx, sample(alert.Resolve)); err == nil || !alert.IsPermanent(err) || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong secret: got %v", err)
	}
	// A sender whose clock is far off is refused as a replay.
	late, _ := notify.NewWebhook(notify.WebhookConfig{Name: "siem", URL: recv.URL, Secret: "s3cret"},
		notify.Options{Now: func() time.Time { return now.Add(-time.Hour) }})
	if err := late.Notify(ctx, sample(alert.Resolve)); err == nil || !strings.Contains(err.Error(), "stale") {
		t.Errorf("stale timestamp: got %v", err)
	}
	recv.Script(notifytest.Reply{Status: 503})
	if err := n.Notify(ctx, sample(alert.Update)); err == nil || alert.IsPermanent(err) {
		t.Errorf("503: got %v, want retryable", err)
	}
	recv.Script(notifytest.Reply{Status: 408})
	if err := n.Notify(ctx, sample(alert.Update)); err == nil || alert.IsPermanent(err) {
		t.Errorf("408: got %v, want retryable", err)
	}
}

func TestSignAndVerify(t *testing.T) {
	body := []byte(`{"id":"x"}`)
	sig := notify.Sign("k", body)
	// HMAC-SHA256("k", body), computed independently with openssl:
	// printf '{"id":"x"}' | openssl dgst -sha256 -hmac k
	if want := "sha256=696b5110678d1f332918da752fc2089d305cf4caf658eb24939d7e1f0b0a7934"; sig != want {
		t.Fatalf("Sign = %s, want %s", sig, want)
	}
	if !notify.Verify("k", body, sig) {
		t.Error("Verify refused a good signature")
	}
	for _, bad := range []string{"", "sha256=", "sha256=zz", strings.TrimPrefix(sig, "sha256="), "sha1=" + sig[7:]} {
		if notify.Verify("k", body, bad) {
			t.Errorf("Verify accepted %q", bad)
		}
	}
	if notify.Verify("k", []byte(`{"id":"y"}`), sig) || notify.Verify("other", body, sig) {
		t.Error("Verify accepted another body or key")
	}
}

func TestNewFromConfigReadsSecrets(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "pd")
	if err := os.WriteFile(keyFile, []byte(routingKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	pd := notifytest.NewPagerDuty()
	defer pd.Close()
	sl := notifytest.NewSlack()
	defer sl.Close()
	t.Setenv("MAMORI_TEST_SLACK_HOOK", sl.HookURL())
	t.Setenv("MAMORI_TEST_HOOK_SECRET", "s3cret")
	recv := notifytest.NewWebhook("s3cret", nil)
	defer recv.Close()
	cfg := alert.Config{Notifiers: []alert.NotifierConfig{
		{Name: "pd", Type: "pagerduty", URL: pd.EnqueueURL(), RoutingKey: alert.Secret{File: keyFile}},
		{Name: "soc", Type: "slack", WebhookURL: alert.Secret{Env: "MAMORI_TEST_SLACK_HOOK"}},
		{Name: "siem", Type: "webhook", URL: recv.URL, Secret: alert.Secret{Env: "MAMORI_TEST_HOOK_SECRET"}},
	}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ns, err := notify.NewAll(cfg.Notifiers, notify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		if err := n.Notify(context.Background(), sample(alert.Trigger)); err != nil {
			t.Errorf("%s: %v", n.Name(), err)
		}
	}
	if len(pd.Events()) != 1 || len(sl.Messages()) != 1 || len(recv.Deliveries()) != 1 {
		t.Errorf("deliveries: pd %d slack %d webhook %d", len(pd.Events()), len(sl.Messages()), len(recv.Deliveries()))
	}

	// A missing secret is named, by where it was looked for.
	cfg.Notifiers[1].WebhookURL = alert.Secret{Env: "MAMORI_TEST_UNSET_VARIABLE"}
	cfg.Notifiers[0].RoutingKey = alert.Secret{File: filepath.Join(dir, "missing")}
	_, err = notify.NewAll(cfg.Notifiers, notify.Options{})
	if err == nil || !strings.Contains(err.Error(), "MAMORI_TEST_UNSET_VARIABLE") || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing secrets: %v", err)
	}
}

func TestRetryAfterDate(t *testing.T) {
	sl := notifytest.NewSlack()
	defer sl.Close()
	n, _ := notify.NewSlack(notify.SlackConfig{Name: "soc", WebhookURL: sl.HookURL()}, opts())
	for _, tt := range []struct {
		header string
		want   time.Duration
	}{
		{t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{t0.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
		{"-5", 0},
	} {
		sl.Script(notifytest.Reply{Status: 429, RetryAfter: tt.header})
		err := n.Notify(context.Background(), sample(alert.Trigger))
		var de *alert.DeliveryError
		if !asDelivery(err, &de) || de.Permanent || de.RetryAfter != tt.want {
			t.Errorf("Retry-After %q: got %+v, want retry after %v", tt.header, err, tt.want)
		}
	}
}
