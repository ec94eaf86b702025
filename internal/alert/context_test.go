package alert_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/query"
)

func relatedEvent(fields map[string]string) *event.Event {
	e := event.New(8)
	for k, v := range fields {
		e.Set(k, v)
	}
	e.FillRelated()
	return e
}

// terms collects field → values of a parsed query's terms.
func terms(t *testing.T, n query.Node) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	var walk func(n query.Node)
	walk = func(n query.Node) {
		switch x := n.(type) {
		case *query.Or:
			for _, c := range x.Nodes {
				walk(c)
			}
		case *query.Term:
			out[x.Field] = append(out[x.Field], x.Value)
		default:
			t.Fatalf("unexpected node %T (%s): every value must be a plain term", n, n)
		}
	}
	walk(n)
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

func TestContextQuery(t *testing.T) {
	a := alert.Alert{FirstSeen: t0, LastSeen: t0.Add(10 * time.Minute), EventIDs: []string{"e1"}}
	// Values with every character the query language treats as syntax.
	nasty := `bob "the admin" \ (OR) AND *`
	events := []*event.Event{
		relatedEvent(map[string]string{"source.ip": "::ffff:203.0.113.7", "user.name": nasty, "host.name": "web-01"}),
		relatedEvent(map[string]string{"source.ip": "203.0.113.7", "destination.ip": "127.0.0.1", "user.name": "alice"}),
		relatedEvent(map[string]string{"destination.ip": "2001:db8::1", "source.ip": "0.0.0.0", "host.name": "WEB-01"}),
	}
	q, from, to := alert.ContextQuery(a, events)
	if !from.Equal(t0.Add(-30*time.Minute)) || !to.Equal(t0.Add(40*time.Minute)) {
		t.Errorf("range %v – %v", from, to)
	}
	if !strings.HasPrefix(q, `related.ip:("2001:db8::1" OR "203.0.113.7") OR related.user:(`) {
		t.Errorf("query shape: %s", q)
	}
	n, err := query.Parse(q)
	if err != nil {
		t.Fatalf("query does not parse: %v\n%s", err, q)
	}
	want := map[string][]string{
		"related.ip":    {"2001:db8::1", "203.0.113.7"}, // unmapped, deduplicated; loopback and 0.0.0.0 left out
		"related.user":  {"alice", nasty},
		"related.hosts": {"WEB-01", "web-01"},
	}
	if got := terms(t, n); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("terms:\n got %v\nwant %v", got, want)
	}
	if _, _, err := query.ToSQL(q); err != nil {
		t.Errorf("query does not compile to SQL: %v", err)
	}
	// It finds an event of another dataset that shares only the user.
	other := relatedEvent(map[string]string{"user.name": nasty, "event.dataset": "aws.cloudtrail"})
	if !query.Match(n, other) {
		t.Error("a related event does not match")
	}
	if query.Match(n, relatedEvent(map[string]string{"user.name": "bob", "source.ip": "198.51.100.1"})) {
		t.Error("an unrelated event matches")
	}
}

func TestContextQueryWithoutRelatedValues(t *testing.T) {
	a := alert.Alert{FirstSeen: t0, LastSeen: t0, EventIDs: []string{"id-2", "id-1"}}
	q, _, _ := alert.ContextQuery(a, []*event.Event{event.New(1)})
	if q != `event.id:("id-1" OR "id-2")` {
		t.Errorf("fallback: %s", q)
	}
	if q, _, _ := alert.ContextQuery(alert.Alert{}, nil); q != "" {
		t.Errorf("nothing to relate: %q", q)
	}
}

func TestContextQueryIsBounded(t *testing.T) {
	var events []*event.Event
	for i := range 500 {
		events = append(events, relatedEvent(map[string]string{"source.ip": fmt.Sprintf("10.0.%d.%d", i/250, i%250+1)}))
	}
	q, _, _ := alert.ContextQuery(alert.Alert{}, events)
	n, err := query.Parse(q)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(terms(t, n)["related.ip"]); got != 50 {
		t.Errorf("%d addresses in the query, want 50", got)
	}
}
