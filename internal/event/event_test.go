package event

import (
	"encoding/json"
	"fmt"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestMarshalNestsInStableOrder(t *testing.T) {
	e := New(8)
	e.Set("source.port", 443)
	e.Set("source.ip", "192.0.2.1")
	e.Set("@timestamp", time.Date(2026, 11, 20, 1, 2, 3, 0, time.FixedZone("JST", 9*3600)))
	e.Set("event.category", []string{"network", "intrusion_detection"})
	e.Set("source_x", true)
	e.Set("message", "a \"quoted\"\nline\x01 \xff")
	got, err := e.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"@timestamp":"2026-11-19T16:02:03Z","event":{"category":["network","intrusion_detection"]},` +
		`"message":"a \"quoted\"\nline\u0001 \ufffd","source":{"ip":"192.0.2.1","port":443},"source_x":true}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("not valid JSON")
	}
}

func TestMarshalValueAndParentConflict(t *testing.T) {
	e := New(4)
	e.Set("a", "leaf")
	e.Set("a.b", "child")
	e.Set("a.c.d", int64(1))
	got, _ := e.MarshalJSON()
	var m map[string]any
	if err := json.Unmarshal(got, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", got, err)
	}
	if m["a"] != "leaf" || m["a.b"] != "child" || m["a.c.d"] != float64(1) {
		t.Fatalf("conflicting fields not kept side by side: %s", got)
	}
}

func TestUnmarshalRoundTrip(t *testing.T) {
	e := New(8)
	e.Set("@timestamp", time.Date(2026, 1, 2, 3, 4, 5, 600, time.UTC))
	e.Set("source.ip", "2001:db8::1")
	e.Set("source.port", int64(22))
	e.Set("network.bytes", 1.5)
	e.Set("related.user", []string{"alice", "bob"})
	e.Set("aws.resources", []any{map[string]any{"arn": "x", "n": int64(2)}})
	b, _ := e.MarshalJSON()
	var back Event
	if err := back.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	for _, k := range e.Keys() {
		a, _ := e.Get(k)
		bv, _ := back.Get(k)
		if !reflect.DeepEqual(a, bv) {
			t.Errorf("%s: %#v became %#v", k, a, bv)
		}
	}
	if back.Len() != e.Len() {
		t.Errorf("fields %v became %v", e.Keys(), back.Keys())
	}
}

func TestSetDropsEmptyValues(t *testing.T) {
	e := New(4)
	e.Set("a", "")
	e.Set("b", []string{})
	e.Set("c", nil)
	e.Set("d", time.Time{})
	if e.Len() != 0 {
		t.Fatalf("empty values stored: %v", e.Keys())
	}
	e.Set("x", "1")
	e.Set("x", "")
	if e.Has("x") {
		t.Fatal("setting empty did not delete")
	}
}

func TestFillRelated(t *testing.T) {
	e := New(16)
	e.Set("source.ip", "192.0.2.1")
	e.Set("destination.ip", "::ffff:10.0.0.5")
	e.Set("host.ip", []string{"10.0.0.5", "not-an-ip"})
	e.Set("user.name", "alice")
	e.Set("user.target.name", "bob")
	e.Set("user_agent.name", "Firefox")
	e.Set("source.user.email", "carol@example.com")
	e.Set("host.name", "web-01")
	e.Set("destination.domain", "example.com")
	e.Set("observer.hostname", "198.51.100.1")
	e.Set("file.hash.sha256", "ABCDEF")
	e.Set("event.hash", "not-a-hash-field")
	e.FillRelated()
	e.FillRelated() // idempotent
	check := func(field string, want []string) {
		t.Helper()
		if got := e.Strings(field); !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", field, got, want)
		}
	}
	check(RelatedIP, []string{"10.0.0.5", "192.0.2.1", "198.51.100.1"})
	check(RelatedUser, []string{"alice", "bob", "carol@example.com"})
	check(RelatedHosts, []string{"example.com", "web-01"})
	check(RelatedHash, []string{"abcdef"})
}

func TestIDIsDeterministic(t *testing.T) {
	a := ID("raw/syslog/2026/11/20/10/x.ndjson.zst", 5, 0)
	if a != ID("raw/syslog/2026/11/20/10/x.ndjson.zst", 5, 0) {
		t.Fatal("same position, different id")
	}
	seen := map[string]bool{a: true}
	for _, id := range []string{ID("raw/syslog/2026/11/20/10/x.ndjson.zst", 6, 0),
		ID("raw/syslog/2026/11/20/10/x.ndjson.zst", 5, 1), ID("raw/syslog/2026/11/20/10/y.ndjson.zst", 5, 0)} {
		if seen[id] {
			t.Fatalf("collision %s", id)
		}
		seen[id] = true
	}
	if len(a) != 26 {
		t.Fatalf("id %q has length %d", a, len(a))
	}
}

// SetString's values behave as strings set with Set, and survive garbage
// collections and later SetString calls (which fill more slabs).
func TestSetStringIsSet(t *testing.T) {
	a, b := New(4), New(4)
	var want []string
	for i := 0; i < 3*slabSize+5; i++ {
		s := fmt.Sprintf("value-%d-%s", i, strings.Repeat("x", i%7))
		field := fmt.Sprintf("f.%d", i)
		a.SetString(field, s)
		b.Set(field, s)
		want = append(want, s)
		if i%20 == 0 {
			runtime.GC()
		}
	}
	a.SetString("gone", "x")
	a.SetString("gone", "")
	runtime.GC()
	if a.Has("gone") {
		t.Error("SetString with an empty value did not delete the field")
	}
	for i, w := range want {
		field := fmt.Sprintf("f.%d", i)
		v, _ := a.Get(field)
		if s, ok := v.(string); !ok || s != w || a.String(field) != w {
			t.Fatalf("%s = %#v, want %q", field, v, w)
		}
	}
	ja, _ := a.MarshalJSON()
	jb, _ := b.MarshalJSON()
	if string(ja) != string(jb) {
		t.Errorf("JSON differs:\n%s\n%s", ja, jb)
	}
}

func BenchmarkSetString(b *testing.B) {
	vals := make([]string, 40)
	for i := range vals {
		vals[i] = fmt.Sprintf("value %d", i)
	}
	b.Run("Set", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e := New(48)
			for i, v := range vals {
				e.Set(fieldNames[i], v)
			}
		}
	})
	b.Run("SetString", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			e := New(48)
			for i, v := range vals {
				e.SetString(fieldNames[i], v)
			}
		}
	})
}

var fieldNames = func() []string {
	out := make([]string, 40)
	for i := range out {
		out[i] = fmt.Sprintf("field.%d", i)
	}
	return out
}()
