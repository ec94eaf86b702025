package query

import (
	"bytes"
	"context"
	"database/sql"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // the duckdb driver
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/store"
)

// fixtureEvents is a small, hand-made set of events covering the field
// kinds a query meets: promoted columns of every type, related.* lists, doc
// fields holding scalars, arrays, numbers and times, and absent fields.
func fixtureEvents() []*event.Event {
	day := func(d, h, m int) time.Time { return time.Date(2024, 5, d, h, m, 0, 0, time.UTC) }
	mk := func(id string, ts time.Time, dataset string, fields map[string]any) *event.Event {
		e := event.New(len(fields) + 4)
		e.Set(event.FieldID, id)
		e.Set(event.FieldTimestamp, ts)
		e.Set(event.FieldDataset, dataset)
		for k, v := range fields {
			e.Set(k, v)
		}
		e.FillRelated()
		return e
	}
	return []*event.Event{
		mk("e01", day(1, 10, 0), "linux.auth", map[string]any{
			"host.name": "web-01", "user.name": "alice", "source.ip": "10.1.2.3", "source.port": 52000,
			"event.action": "ssh_login", "event.outcome": "failure", "event.category": []string{"authentication"},
			"message":        "Failed password for alice from 10.1.2.3 port 52000 ssh2",
			"event.original": "<38>May  1 10:00:00 web-01 sshd[411]: Failed password for alice from 10.1.2.3 port 52000 ssh2",
			"process.pid":    411,
		}),
		mk("e02", day(1, 11, 0), "linux.auth", map[string]any{
			"host.name": "web-02", "user.name": "bob", "source.ip": "192.0.2.10", "source.port": 40022,
			"event.action": "ssh_login", "event.outcome": "success", "event.category": []string{"authentication"},
			"message":        "Accepted publickey for bob from 192.0.2.10 port 40022 ssh2",
			"event.original": "<38>May  1 11:00:00 web-02 sshd[977]: Accepted publickey for bob from 192.0.2.10 port 40022 ssh2",
		}),
		mk("e03", day(2, 9, 30), "panw.panos", map[string]any{
			"source.ip": "172.16.5.4", "source.port": 51000, "destination.ip": "203.0.113.7", "destination.port": 443,
			"event.action": "deny", "event.outcome": "failure", "event.category": []string{"network"},
			"event.type": []string{"connection", "denied"}, "network.transport": "tcp", "observer.name": "fw1",
			"event.original": "1,2024/05/02 09:30:00,fw1,TRAFFIC,deny,172.16.5.4,203.0.113.7,443,tcp",
		}),
		mk("e04", day(2, 9, 45), "panw.panos", map[string]any{
			"source.ip": "2001:db8::1", "destination.ip": "2001:db8:1::53", "destination.port": 53,
			"event.action": "allow", "event.type": []string{"connection", "allowed"}, "network.transport": "udp",
			"source.nat.ip": "198.51.100.9", "observer.name": "fw1",
			"event.original": "1,2024/05/02 09:45:00,fw1,TRAFFIC,allow,2001:db8::1,2001:db8:1::53,53,udp",
		}),
		mk("e05", day(3, 8, 0), "aws.cloudtrail", map[string]any{
			"user.name": "Admin", "event.action": "ConsoleLogin", "event.outcome": "success",
			"source.ip": "198.51.100.20", "cloud.region": "eu-west-1", "aws.cloudtrail.event_version": "1.08",
			"aws.cloudtrail.resources": []any{map[string]any{"arn": "arn:aws:iam::123:role/x"}, "plain", int64(7), []any{"nested"}},
			"event.original":           `{"eventName":"ConsoleLogin","userIdentity":{"userName":"Admin"},"sourceIPAddress":"198.51.100.20"}`,
		}),
		mk("e06", day(3, 12, 0), "nginx.access", map[string]any{
			"host.name": "web-10", "source.ip": "10.200.0.1", "url.path": "/_vti_bin/owssvr.dll",
			"http.response.status_code": 404, "user_agent.original": "Mozilla/5.0",
			"event.original": `10.200.0.1 - - [03/May/2024:12:00:00 +0000] "GET /_vti_bin/owssvr.dll HTTP/1.1" 404 0`,
		}),
		mk("e07", day(3, 12, 5), "nginx.access", map[string]any{
			"host.name": "db-01", "source.ip": "10.200.0.2", "url.path": "/admin/login.php",
			"http.response.status_code": 200,
			"event.original":            `10.200.0.2 - - [03/May/2024:12:05:00 +0000] "GET /admin/login.php HTTP/1.1" 200 512`,
		}),
		mk("e08", day(4, 0, 0), "edr.alert", map[string]any{
			"host.name": "WS-Alice", "event.severity": 7, "message": "Malware detected: Trojan.Generic",
			"file.hash.sha256": "ABCDEF0123456789", "event.kind": "alert",
		}),
		mk("e09", day(4, 6, 0), "edr.alert", map[string]any{
			"host.name": "ws-bob", "event.severity": 3, "message": "Suspicious password spray",
			"event.kind": "alert", "threat.score": 2.5,
		}),
		mk("e10", day(5, 1, 0), "linux.auth", map[string]any{
			"host.name": "web-01", "user.name": "adm1n", "source.ip": "10.0.0.5",
			"message": "session opened for user adm1n",
		}),
		mk("e11", day(5, 2, 0), "linux.auth", map[string]any{
			"user.name": "admin", "host.name": "bastion", "message": "session opened for user admin",
			"event.created": "2024-05-05T02:00:01Z",
		}),
		mk("e12", day(5, 3, 0), "syslog", map[string]any{
			"message": "ALICE logged out", "event.original": "<13>May  5 03:00:00 host1 app: ALICE logged out",
		}),
		mk("e13", day(6, 0, 0), "webapp", map[string]any{
			"user.name": "x' OR 1=1 --", "message": "login attempt a'); DROP TABLE events;--",
			"url.query": "id=1' OR '1'='1",
		}),
		mk("e14", day(6, 1, 0), "custom", map[string]any{
			"labels.a'b": "c", `labels.q"t`: "d", "labels.env": "prod", "message": "labelled",
		}),
		mk("e15", day(6, 2, 0), "custom", map[string]any{
			"event.created": "2024-06-01T00:00:00Z", "network.bytes": 1500, "threat.score": 9.75,
			"message": "big transfer",
		}),
		mk("e16", day(7, 0, 0), "dhcp", map[string]any{
			"client.ip": "::ffff:10.9.8.7", "client.mac": "00-11-22-33-44-55", "message": "lease granted",
		}),
		mk("e17", day(7, 1, 0), "panw.panos", map[string]any{
			"source.ip": "10.0.0.200", "source.port": 1024, "destination.ip": "10.0.0.1", "destination.port": 22,
			"event.action": "allow", "network.transport": "tcp",
		}),
		mk("e18", day(7, 2, 0), "custom", map[string]any{
			"tags": []string{"prod", "web"}, "labels.env": "staging", "host.name": "web-20",
			"message": "deploy finished", "event.severity": 5,
		}),
		mk("e19", day(8, 0, 0), "dns", map[string]any{
			"host.name": "web-*", "dns.question.name": "example.com", "source.ip": "10.31.0.9",
			"message": "query example.com 100%_done",
		}),
		mk("e20", day(8, 1, 0), "heartbeat", map[string]any{"message": "heartbeat"}),
	}
}

// openFixtureDB creates the events table in an in-memory DuckDB, registers
// the query functions and inserts the events as the store would.
func openFixtureDB(t testing.TB, events []*event.Event) *sql.DB {
	t.Helper()
	return openDB(t, events, true)
}

// openColumnsDB is openFixtureDB with the store's table as it is, which may
// lack the doc, message and original columns (see CompileFilter).
func openColumnsDB(t testing.TB, events []*event.Event) *sql.DB {
	t.Helper()
	return openDB(t, events, false)
}

func openDB(t testing.TB, events []*event.Event, full bool) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatalf("open duckdb: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	createEventsTable(t, db, full)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatalf("conn: %v", err)
	}
	defer conn.Close()
	if err := RegisterFunctions(ctx, conn); err != nil {
		t.Fatalf("RegisterFunctions: %v", err)
	}
	insertEvents(t, db, events, full)
	return db
}

// extraColumns are the columns of the layout Compile targets beyond the
// promoted ones, and the id the tests select; the store's own DDL may lack
// them.
var extraColumns = []string{"id", messageColumn, originalColumn, docColumn}

// createEventsTable creates the table with store.EventsDDL, adds the
// columns of extraColumns that it lacks when full, and drops NOT NULL from
// the store's bookkeeping columns, which the tests do not fill.
func createEventsTable(t testing.TB, db *sql.DB, full bool) {
	t.Helper()
	if _, err := db.Exec(store.EventsDDL); err != nil {
		t.Fatalf("create events: %v", err)
	}
	filled := map[string]bool{}
	for _, c := range store.Columns {
		filled[c.Name] = true
	}
	for _, c := range extraColumns {
		if !full {
			break
		}
		filled[c] = true
		if _, err := db.Exec("ALTER TABLE events ADD COLUMN IF NOT EXISTS " + c + " VARCHAR"); err != nil {
			t.Fatalf("add column %s: %v", c, err)
		}
	}
	rows, err := db.Query(`SELECT column_name FROM duckdb_columns() WHERE table_name = 'events' AND NOT is_nullable`)
	if err != nil {
		t.Fatalf("list columns: %v", err)
	}
	var required []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		if !filled[name] {
			required = append(required, name)
		}
	}
	rows.Close()
	for _, name := range required {
		if _, err := db.Exec("ALTER TABLE events ALTER COLUMN " + name + " DROP NOT NULL"); err != nil {
			t.Fatalf("relax %s: %v", name, err)
		}
	}
}

// insertEvents fills every promoted column from its event field and, when
// full, id, message and original from theirs and doc with the document less
// event.original and message. Rows keep the events' order (rowid).
func insertEvents(t testing.TB, db *sql.DB, events []*event.Event, full bool) {
	t.Helper()
	type column struct {
		name  string
		value func(e *event.Event) any
	}
	var cols []column
	named := map[string]bool{}
	for _, c := range store.Columns {
		cols = append(cols, column{c.Name, func(e *event.Event) any { return columnValue(e, c) }})
		named[c.Name] = true
	}
	for _, c := range store.V4Columns() {
		cols = append(cols, column{c.V4, func(e *event.Event) any { return store.IPv4Value(columnValue(e, c)) }})
		named[c.V4] = true
	}
	text := func(field string) func(e *event.Event) any {
		return func(e *event.Event) any { return nullable(e.String(field)) }
	}
	skip := func(f string) bool { return f == event.FieldOriginal || f == event.FieldMessage }
	for _, c := range []column{
		{"id", text(event.FieldID)},
		{messageColumn, text(event.FieldMessage)},
		{originalColumn, text(event.FieldOriginal)},
		{docColumn, func(e *event.Event) any {
			var doc bytes.Buffer
			if err := e.AppendJSON(&doc, skip); err != nil {
				t.Fatalf("doc: %v", err)
			}
			return doc.String()
		}},
	} {
		if full && !named[c.name] {
			cols = append(cols, c)
		}
	}
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		names[i], marks[i] = c.name, "?"
	}
	row := "(" + strings.Join(marks, ", ") + ")"
	const batch = 100
	for start := 0; start < len(events); start += batch {
		chunk := events[start:min(start+batch, len(events))]
		stmt := "INSERT INTO events (" + strings.Join(names, ", ") + ") VALUES " + row + strings.Repeat(", "+row, len(chunk)-1)
		args := make([]any, 0, len(cols)*len(chunk))
		for _, e := range chunk {
			for _, c := range cols {
				args = append(args, c.value(e))
			}
		}
		if _, err := db.Exec(stmt, args...); err != nil {
			t.Fatalf("insert events: %v", err)
		}
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func columnValue(e *event.Event, c store.Column) any {
	switch c.Type {
	case store.Time:
		return e.Time()
	case store.Int:
		if v, ok := numberOf(e, c.Field); ok {
			return int64(v)
		}
		return nil
	case store.TextList, store.IPList:
		vs := e.Strings(c.Field)
		if len(vs) == 0 {
			return nil
		}
		if c.Type == store.IPList {
			out := make([]string, len(vs))
			for i, v := range vs {
				out[i] = storedIP(v)
			}
			vs = out
		}
		return vs
	case store.IP:
		if v := e.String(c.Field); v != "" {
			return storedIP(v)
		}
		return nil
	default:
		return nullable(e.String(c.Field))
	}
}

// sqlIDs runs the compiled query and returns the sorted ids it selects.
func sqlIDs(t testing.TB, db *sql.DB, where string, args []any) ([]string, error) {
	t.Helper()
	rows, err := db.Query("SELECT id FROM events WHERE "+where+" ORDER BY id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// sqlRowIDs runs a filter and returns the sorted ids of the events whose
// rows it selects, by insertion order.
func sqlRowIDs(t testing.TB, db *sql.DB, events []*event.Event, where string, args []any) ([]string, error) {
	t.Helper()
	rows, err := db.Query("SELECT rowid FROM events WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, err
		}
		ids = append(ids, events[i].String(event.FieldID))
	}
	sort.Strings(ids)
	return ids, rows.Err()
}

// matchIDs returns the sorted ids of the events Match accepts.
func matchIDs(n Node, events []*event.Event) []string {
	ids := []string{}
	for _, e := range events {
		if Match(n, e) {
			ids = append(ids, e.String(event.FieldID))
		}
	}
	sort.Strings(ids)
	return ids
}

// matcherIDs returns the sorted ids of the events a Matcher accepts.
func matcherIDs(t testing.TB, n Node, events []*event.Event) []string {
	t.Helper()
	m, err := NewMatcher(n)
	if err != nil {
		t.Fatalf("NewMatcher(%s): %v", n, err)
	}
	ids := []string{}
	for _, e := range events {
		if m.Match(e) {
			ids = append(ids, e.String(event.FieldID))
		}
	}
	sort.Strings(ids)
	return ids
}
