package query

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// FuzzParse checks that Parse never panics, that its errors point inside
// the query, and that every tree it returns renders to a query that parses
// to the same tree and compiles.
func FuzzParse(f *testing.F) {
	for _, tc := range validQueries {
		f.Add(tc.in)
	}
	for _, s := range []string{
		`user.name:`, `(a`, `a AND`, `"abc`, `f:[1 TO`, `a\`, `destination.port:abc`,
		`source.ip:10.0.0.0/8 AND NOT related.ip:2001:db8::/32`, `_exists_:"a b"`,
		`f:(a OR (b AND -c) OR "d e")`, `@timestamp:{2024-05-01 TO 2024-05-02T10:00:00+02:00]`,
	} {
		f.Add(s)
	}
	e := event.New(8)
	e.Set(event.FieldTimestamp, time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC))
	e.Set(event.FieldOriginal, "Failed password for alice from 10.1.2.3")
	e.Set("source.ip", "10.1.2.3")
	e.Set("event.type", []string{"connection", "denied"})
	e.FillRelated()
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Parse(q)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Parse(%q) error %v is not a *SyntaxError", q, err)
			}
			if se.Pos < 0 || se.Pos > len(q) || se.Expected == "" || se.Found == "" {
				t.Fatalf("Parse(%q): bad error %#v", q, se)
			}
			return
		}
		checkRoundTrip(t, q, n)
		if _, _, err := Compile(n); err != nil {
			t.Fatalf("Parse(%q) succeeded but Compile failed: %v", q, err)
		}
		Match(n, e) // must not panic
	})
}

// FuzzMatchAgreesWithSQL checks, for any query that parses, that DuckDB
// runs its SQL without error and selects exactly the fixture events that
// Match accepts, and that CompileFilter keeps at least those (exactly
// those when it says it is exact).
func FuzzMatchAgreesWithSQL(f *testing.F) {
	for _, tc := range searchCases {
		f.Add(tc.q)
	}
	events := fixtureEvents()
	db := openFixtureDB(f, events)
	f.Fuzz(func(t *testing.T, q string) {
		n, err := Parse(q)
		if err != nil {
			return
		}
		where, args, err := Compile(n)
		if err != nil {
			t.Fatalf("Compile(%q): %v", q, err)
		}
		got, err := sqlIDs(t, db, where, args)
		if err != nil {
			t.Fatalf("query %q fails in DuckDB: %v\nSQL: %s\nargs: %#v", q, err, where, args)
		}
		if m := matchIDs(n, events); !reflect.DeepEqual(m, got) {
			t.Fatalf("%q: Match accepts %v, SQL selects %v\nSQL: %s\nargs: %#v", q, m, got, where, args)
		}
		fwhere, fargs, exact, err := CompileFilter(n)
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", q, err)
		}
		kept, err := sqlIDs(t, db, fwhere, fargs)
		if err != nil {
			t.Fatalf("filter %q fails in DuckDB: %v\nSQL: %s", q, err, fwhere)
		}
		keptSet := map[string]bool{}
		for _, id := range kept {
			keptSet[id] = true
		}
		for _, id := range got {
			if !keptSet[id] {
				t.Fatalf("filter for %q drops %s\nSQL: %s %#v", q, id, fwhere, fargs)
			}
		}
		if exact && !reflect.DeepEqual(kept, got) {
			t.Fatalf("filter for %q claims to be exact but keeps %v, want %v", q, kept, got)
		}
	})
}
