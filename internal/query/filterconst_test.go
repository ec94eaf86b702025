package query

import (
	"strings"
	"testing"
)

func TestFilterAlwaysTrue(t *testing.T) {
	for q, want := range map[string]bool{
		"password":                             true, // event.original is no column
		"password AND secret":                  true,
		"pass*":                                true,
		`"failed password"`:                    true,
		"*":                                    true,
		"cef.extensions.deviceCustomString1:x": true, // a field in no column
		"source.ip:10.0.0.1":                   false,
		"password AND source.ip:10.0.0.1":      false,
		"password OR source.ip:10.0.0.1":       true,
		"NOT password":                         false, // NOT of a keyword still checks related.*
		"NOT cef.name:x":                       true,
		"NOT source.ip:10.0.0.1":               false,
		"event.dataset:syslog AND password":    false,
		"_exists_:user.name":                   false,
		"_exists_:cef.name":                    true,
		"destination.port:[1 TO 1024]":         false,
	} {
		n, err := Parse(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if got := FilterAlwaysTrue(n); got != want {
			where, _, _, _ := CompileFilter(n)
			t.Errorf("FilterAlwaysTrue(%s) = %v, want %v (filter: %s)", q, got, want, where)
		}
	}
}

// TestFilterAlwaysTrueAgreesWithTheSQL checks the claim on the compiled
// filter itself: where FilterAlwaysTrue says TRUE, the SQL must hold for
// every row of the fixture, which the store's table holds as it is.
func TestFilterAlwaysTrueAgreesWithTheSQL(t *testing.T) {
	db := openColumnsDB(t, fixtureEvents())
	for _, q := range []string{"password", "password AND secret", "pass*", `"failed password"`,
		"password OR source.ip:10.0.0.1", "NOT cef.name:x", "cef.name:x AND (password OR host.name:h)"} {
		n, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		if !FilterAlwaysTrue(n) {
			t.Errorf("%s: want always true", q)
			continue
		}
		where, args, _, err := CompileFilter(n)
		if err != nil {
			t.Fatal(err)
		}
		var total, matched int
		if err := db.QueryRow("SELECT count(*), count(*) FILTER (WHERE "+where+") FROM events", args...).Scan(&total, &matched); err != nil {
			t.Fatalf("%s: %v (%s)", q, err, strings.TrimSpace(where))
		}
		if total == 0 || matched != total {
			t.Errorf("%s: filter holds for %d of %d rows: %s", q, matched, total, where)
		}
	}
}
