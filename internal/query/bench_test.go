package query

import (
	"context"
	"testing"
)

const typicalQuery = `event.dataset:panw.panos AND source.ip:10.0.0.0/8 AND NOT destination.port:[1 TO 1024] AND (user.name:adm* OR "failed password")`

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(typicalQuery); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ToSQL(typicalQuery); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	events := fixtureEvents()
	for _, q := range []string{
		typicalQuery,
		`source.ip:10.0.0.0/12 AND NOT event.type:denied`,
		`password`,
	} {
		n, err := Parse(q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("Match/"+q[:min(len(q), 30)], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, e := range events {
					Match(n, e)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
		m, err := NewMatcher(n)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("Matcher/"+q[:min(len(q), 30)], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				for _, e := range events {
					m.Match(e)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(events)), "ns/event")
		})
	}
}

// BenchmarkCIDRSearch measures CIDR filters over a million rows: the
// function alone, and the compiled forms with their text shortcuts.
func BenchmarkCIDRSearch(b *testing.B) {
	ctx := context.Background()
	db := openFunctionsDB(b)
	const rows = 1_000_000
	if _, err := db.ExecContext(ctx, `CREATE TABLE events AS
		SELECT (i % 256)::VARCHAR || '.' || ((i // 256) % 256)::VARCHAR || '.' || ((i // 65536) % 256)::VARCHAR || '.7' AS source_ip
		FROM range(?) t(i)`, rows); err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, where string }{
		{"udf", `ip_in_cidr(source_ip, '10.0.0.0/12')`},
		{"compiled-/12", ""},
		{"compiled-/8", ""},
	} {
		where, args := tc.where, []any(nil)
		if where == "" {
			var err error
			where, args, err = ToSQL("source.ip:10.0.0.0/" + tc.name[len("compiled-/"):])
			if err != nil {
				b.Fatal(err)
			}
		}
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				var n int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, args...).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}

// BenchmarkSearch measures compiled queries over a million synthetic rows
// of the events table: the baseline keyword scan, a promoted-column
// filter, and a doc field that holds arrays.
func BenchmarkSearch(b *testing.B) {
	ctx := context.Background()
	db := openFunctionsDB(b)
	createEventsTable(b, db, true)
	const rows = 1_000_000
	if _, err := db.ExecContext(ctx, `INSERT INTO events (ts, id, dataset, user_name, source_ip, related_ip, related_user, related_hosts, message, original, doc)
		SELECT TIMESTAMP '2024-05-01' + to_microseconds(i * 1000), i::VARCHAR, 'linux.auth', 'user' || (i % 5000)::VARCHAR,
			'10.' || (i % 256)::VARCHAR || '.' || ((i // 256) % 256)::VARCHAR || '.1',
			['10.' || (i % 256)::VARCHAR || '.' || ((i // 256) % 256)::VARCHAR || '.1'], ['user' || (i % 5000)::VARCHAR], ['web-' || (i % 50)::VARCHAR],
			'Failed password for user' || (i % 5000)::VARCHAR || ' from 10.' || (i % 256)::VARCHAR || '.' || ((i // 256) % 256)::VARCHAR || '.1 port 22 ssh2',
			'<38>May  1 10:00:00 web-' || (i % 50)::VARCHAR || ' sshd[' || i::VARCHAR || ']: Failed password for user' || (i % 5000)::VARCHAR || ' from 10.' || (i % 256)::VARCHAR || '.' || ((i // 256) % 256)::VARCHAR || '.1 port 22 ssh2',
			'{"event":{"type":' || CASE WHEN i % 3 = 0 THEN '["connection","denied"]' ELSE '"info"' END || '},"host":{"name":"web-' || (i % 50)::VARCHAR || '"}}'
		FROM range(?) t(i)`, rows); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		"user4242",
		"User4242",
		"user.name:user4242",
		"event.type:denied",
		"NOT event.type:denied",
	} {
		where, args, err := ToSQL(q)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				var n int
				if err := db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, args...).Scan(&n); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*rows), "ns/row")
		})
	}
}
