package mamoriaudit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var received = time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)

func TestGolden(t *testing.T) {
	testutil.RunParserCases(t, "testdata", mamoriaudit.New().Parser, received)
}

// TestRoundTrip checks that what mamori writes (Record.Marshal) is what
// the parser reads back, field by field.
func TestRoundTrip(t *testing.T) {
	n, total := 3, int64(40)
	from := time.Date(2026, 11, 19, 0, 0, 0, 0, time.UTC)
	r := mamoriaudit.Record{Time: received, Action: mamoriaudit.ActionSearch, Outcome: mamoriaudit.Success,
		User: "alice", Role: "analyst", Via: "token", ViaToken: "abc", SourceIP: "2001:db8::1", Method: "GET",
		Path: "/api/v1/search", Status: 200, Query: `"failed password"`, From: from, Results: &n, Total: &total}
	evs, err := mamoriaudit.New().Parser.Parse(dataset.Record{Data: r.Marshal()})
	if err != nil || len(evs) != 1 {
		t.Fatalf("parse: %d events, %v", len(evs), err)
	}
	testutil.CheckFields(t, evs[0], map[string]any{
		"@timestamp":                received,
		"event.action":              "search",
		"event.outcome":             "success",
		"event.category":            []string{"api"},
		"user.name":                 "alice",
		"user.roles":                []string{"analyst"},
		"source.ip":                 "2001:db8::1",
		"url.path":                  "/api/v1/search",
		"http.response.status_code": int64(200),
		"mamori.audit.query":        `"failed password"`,
		"mamori.audit.from":         from,
		"mamori.audit.to":           nil,
		"mamori.audit.results":      int64(3),
		"mamori.audit.total":        int64(40),
		"mamori.audit.via":          "token",
		"mamori.audit.via_token":    "abc",
	})
}

func TestNoRecordWithoutAction(t *testing.T) {
	p := mamoriaudit.New().Parser
	for _, line := range []string{`{}`, `{"outcome":"success"}`, `{"action":"login"}`, `"login"`} {
		if evs, err := p.Parse(dataset.Record{Data: []byte(line)}); err == nil {
			t.Errorf("Parse(%s) = %d events, want an error", line, len(evs))
		}
	}
}

func FuzzAudit(f *testing.F) {
	p := mamoriaudit.New().Parser
	f.Add([]byte(`{"time":"2026-11-20T09:00:00Z","action":"login","outcome":"success","user":"alice"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "mamori.audit: ") {
				t.Fatalf("error %q does not say which dataset failed", err)
			}
			return
		}
		if len(evs) > 1 {
			t.Fatalf("%d events from one record", len(evs))
		}
		for _, ev := range evs {
			if ev.String("event.action") == "" || ev.String("message") == "" {
				t.Fatalf("event without action or message: %v", ev.Keys())
			}
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("marshal: %v", err)
			}
		}
	})
}
