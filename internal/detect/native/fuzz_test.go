package native

import (
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// FuzzParse feeds the loader arbitrary files: it must never panic, every
// failure must be an *Error naming the file (and the format), a file
// without errors must give rules, and every rule it gives must load into
// an engine and evaluate events (rendering its templates) without
// panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(burstRule))
	f.Add([]byte(threatRule))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse("fuzz.yml", data)
		for _, e := range Errors(err) {
			if e.File != "fuzz.yml" || e.Msg == "" || e.Prefix != prefix {
				t.Fatalf("error %q does not name the file and the problem", e.Error())
			}
		}
		if err == nil && len(rules) == 0 {
			t.Fatal("no rules and no error")
		}
		for _, r := range rules {
			if err := r.Check(); err != nil {
				t.Fatalf("a parsed rule fails its check: %v", err)
			}
		}
		eng, rejected := New(rules, Options{MaxGroups: 4})
		for _, r := range rejected {
			if r.File != "fuzz.yml" || r.Reason == "" {
				t.Fatalf("rejection %+v", r)
			}
		}
		base := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		var evs []*event.Event
		for i := range 6 {
			e := event.New(8)
			e.Set(event.FieldID, string(rune('a'+i)))
			e.Set(event.FieldDataset, "linux.syslog")
			e.Set(event.FieldTimestamp, base.Add(time.Duration(i)*time.Minute))
			e.Set("message", "Failed password for root")
			e.Set("user.name", "root")
			e.Set("x", int64(i))
			evs = append(evs, e)
		}
		for _, m := range eng.Evaluate(evs) {
			if m.Rule == nil || m.Rule.ID == "" || m.EventID == "" || m.Severity.Rank() < 0 {
				t.Fatalf("match %+v", m)
			}
		}
	})
}
