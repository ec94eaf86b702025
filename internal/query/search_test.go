package query

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/event"
)

// ids splits "e01 e02" into a sorted id list.
func ids(s string) []string {
	out := strings.Fields(s)
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// allBut lists every fixture id except the given ones.
func allBut(s string) []string {
	skip := map[string]bool{}
	for _, id := range strings.Fields(s) {
		skip[id] = true
	}
	out := []string{}
	for i := 1; i <= 20; i++ {
		id := fmt.Sprintf("e%02d", i)
		if !skip[id] {
			out = append(out, id)
		}
	}
	return out
}

var searchCases = []struct {
	q    string
	want []string
}{
	{"", allBut("")},
	{"*", allBut("")},

	// Keywords: case-insensitive text, related.* elements, IPs.
	{"alice", ids("e01 e12")},
	{"ALICE", ids("e01 e12")},
	{`"failed password"`, ids("e01")},
	{"password", ids("e01 e09")},
	{"owssvr", ids("e06")},
	{"ws-alice", ids("e08")},                // related.hosts, whole element
	{"ABCDEF0123456789", ids("e08")},        // related.hash is lower-cased
	{"fw1", ids("e03 e04")},                 // text and related.hosts
	{`"ws-bob" OR bastion`, ids("e09 e11")}, // related.hosts only
	{"example.com", ids("e19")},
	{"10.9.8.7", ids("e16")},                           // related.ip only (unmapped from ::ffff:10.9.8.7)
	{"203.0.113.7", ids("e03")},                        // text and related.ip
	{"10.0.0.0/8", ids("e01 e06 e07 e10 e16 e17 e19")}, // a CIDR keyword: related.ip
	{"2001:db8::1", ids("e04")},                        // unquoted IPv6 keyword
	{"adm*", ids("e05 e07 e10 e11")},                   // wildcard keyword
	{`"x' OR 1=1 --"`, ids("e13")},

	// Text fields: exact and case-sensitive.
	{"user.name:alice", ids("e01")},
	{"user.name:Alice", ids("")},
	{"user.name:admin", ids("e11")},
	{"user.name:adm?n", ids("e10 e11")},
	{"user.name:adm*", ids("e10 e11")},
	{"host.name:web-*", ids("e01 e02 e06 e10 e18 e19")},
	{`host.name:web-\*`, ids("e19")},
	{"host.name:web-0?", ids("e01 e02 e10")},
	{"host.name:[a TO c]", ids("e11")},
	{"message:heartbeat", ids("e20")},
	{"message:heart*", ids("e20")},
	{"message:*100%_done", ids("e19")}, // % and _ are literal
	{`message:"Malware detected: Trojan.Generic"`, ids("e08")},
	{"event.category:network", ids("e03")},
	{"event.category:auth*", ids("e01 e02")},
	{"event.dataset:panw.panos", ids("e03 e04 e17")},
	{"event.action:deny OR event.action:allow", ids("e03 e04 e17")},
	{"event.action:Reset AND NOT destination.port:443", ids("")},
	{"event.action:allow AND NOT destination.port:53", ids("e17")},
	{"user.name:(alice OR bob) AND NOT event.outcome:failure", ids("e02")},

	// Doc fields: arrays match by element, numbers as numbers.
	{"event.type:denied", ids("e03")},
	{"event.type:connection", ids("e03 e04")},
	{"event.type:conn*", ids("e03 e04")},
	{"tags:web", ids("e18")},
	{"tags:(prod AND web)", ids("e18")},
	{"labels.env:(prod OR staging)", ids("e14 e18")},
	{"labels.env:{a TO q}", ids("e14")},
	{`"labels.a'b":c`, ids("e14")},
	{`labels.q\"t:d`, ids("e14")},
	{`url.path:"/_vti_bin/owssvr.dll"`, ids("e06")},
	{"url.path:/admin/*", ids("e07")},
	{"cloud.region:eu-west-1", ids("e05")},
	{"aws.cloudtrail.resources:plain", ids("e05")},
	{"aws.cloudtrail.resources:7", ids("e05")},
	{"aws.cloudtrail.resources:*arn*", ids("")}, // objects inside arrays are not values
	{"aws.cloudtrail.resources:nested", ids("")},
	{"threat:>A", ids("")}, // an object is not a value
	{"_exists_:threat", ids("e09 e15")},
	{"aws.cloudtrail.event_version:1.08", ids("e05")},
	{"aws.cloudtrail.event_version:1.080", ids("e05")}, // equal as numbers
	{"observer.name:fw1 AND event.type:allowed", ids("e04")},
	{"dns.question.name:example.com", ids("e19")},
	{"client.mac:00-11-22-33-44-55", ids("e16")},
	{"process.pid:411", ids("e01")},
	{"http.response.status_code:404", ids("e06")},
	{"http.response.status_code:[400 TO 499]", ids("e06")},
	{"http.response.status_code:4*", ids("e06")},
	{"event.severity:>=7", ids("e08")},
	{"event.severity:[3 TO 5]", ids("e09 e18")},
	{"threat.score:>2.5", ids("e15")},
	{"threat.score:2.5", ids("e09")},
	{"threat.score:[2 TO 3]", ids("e09")},
	{"network.bytes:1500", ids("e15")},
	{"network.bytes:1.5e3", ids("e15")},
	{"network.bytes:[1000 TO 2000] OR event.severity:[* TO 4]", ids("e09 e15")},
	{"event.kind:alert AND host.name:ws-*", ids("e09")},
	{"event.created:>=2024-05-06", ids("e15")},
	{"event.created:[2024-05-05T00:00:00Z TO 2024-05-05T23:59:59Z]", ids("e11")},

	// Integer columns.
	{"destination.port:[1 TO 1024]", ids("e03 e04 e17")},
	{"destination.port:{22 TO 443}", ids("e04")},
	{"destination.port:[* TO 53]", ids("e04 e17")},
	{"destination.port:4*", ids("e03")},
	{"source.port:>=50000", ids("e01 e03")},
	{"source.port:<1025", ids("e17")},

	// Times.
	{"@timestamp:2024-05-03", ids("e05 e06 e07")},
	{"@timestamp:[2024-05-07 TO *]", ids("e16 e17 e18 e19 e20")},
	{"@timestamp:[2024-05-02 TO 2024-05-03]", ids("e03 e04 e05 e06 e07")},
	{"@timestamp:{2024-05-02 TO 2024-05-04}", ids("e05 e06 e07")},
	{"@timestamp:>=2024-05-08T00:30:00Z", ids("e20")},
	{`@timestamp:"2024-05-01T12:00:00+02:00"`, ids("e01")},

	// IPs and CIDRs.
	{"source.ip:10.0.0.0/8", ids("e01 e06 e07 e10 e17 e19")},
	{"source.ip:10.0.0.0/28", ids("e10")},
	{"source.ip:172.16.0.0/12", ids("e03")},
	{"source.ip:10.1.2.3", ids("e01")},
	{"source.ip:10.1.2.3/32", ids("e01")},
	{`source.ip:"2001:db8::1"`, ids("e04")},
	{"source.ip:2001:db8:0:0::1", ids("e04")}, // canonicalised
	{"source.ip:2001:db8::/32", ids("e04")},
	{"destination.ip:2001:db8:1::/48", ids("e04")},
	{"related.ip:10.0.0.1", ids("e17")},
	{"related.ip:10.9.8.7", ids("e16")},
	{"related.ip:2001:db8::/32", ids("e04")},
	{"related.ip:10.0.0.0/30", ids("e17")},
	{"related.ip:0.0.0.0/0", ids("e01 e02 e03 e04 e05 e06 e07 e10 e16 e17 e19")},
	{"client.ip:10.0.0.0/8", ids("e16")}, // doc value ::ffff:10.9.8.7
	{"source.nat.ip:198.51.100.9", ids("e04")},
	{"source.nat.ip:198.51.100.0/24", ids("e04")},
	{"source.ip:10.0.0.0/8 -source.ip:10.200.0.0/16", ids("e01 e10 e17 e19")},
	{"event.dataset:panw.panos AND (destination.port:22 OR source.ip:2001:db8::/32)", ids("e04 e17")},

	// Existence and NOT over absent fields.
	{"_exists_:user.name", ids("e01 e02 e05 e10 e11 e13")},
	{"user.name:*", ids("e01 e02 e05 e10 e11 e13")},
	{"NOT _exists_:user.name", allBut("e01 e02 e05 e10 e11 e13")},
	{"_exists_:labels", ids("e14 e18")},
	{"_exists_:event.original", ids("e01 e02 e03 e04 e05 e06 e07 e12")},
	{"_exists_:related.user", ids("e01 e02 e05 e10 e11 e13")},
	{"source.ip:*", ids("e01 e02 e03 e04 e05 e06 e07 e10 e17 e19")},
	{"destination.port:*", ids("e03 e04 e17")},
	{"!_exists_:event.outcome AND _exists_:user.name", ids("e10 e11 e13")},
	{"NOT event.type:denied", allBut("e03")},
	{"NOT user.name:alice", allBut("e01")},
	{"-user.name:alice", allBut("e01")},
	{"NOT tags:prod", allBut("e18")},
	{"NOT source.ip:10.0.0.0/8", allBut("e01 e06 e07 e10 e17 e19")},
	{"NOT destination.port:[1 TO 100]", allBut("e04 e17")},
	{"NOT (user.name:alice OR user.name:bob)", allBut("e01 e02")},
	{"NOT NOT user.name:alice", ids("e01")},
	{"NOT event.severity:>4", allBut("e08 e18")},
	{"NOT alice", allBut("e01 e12")},

	// Data that looks like SQL stays data.
	{`user.name:"x' OR 1=1 --"`, ids("e13")},
	{`"a'); DROP TABLE events;--"`, ids("e13")},
	{`url.query:"id=1' OR '1'='1"`, ids("e13")},
}

func TestSearchAgainstDuckDB(t *testing.T) {
	events := fixtureEvents()
	db := openFixtureDB(t, events)
	for _, tc := range searchCases {
		n, err := Parse(tc.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.q, err)
			continue
		}
		where, args, err := Compile(n)
		if err != nil {
			t.Errorf("Compile(%q): %v", tc.q, err)
			continue
		}
		got, err := sqlIDs(t, db, where, args)
		if err != nil {
			t.Errorf("query %q: %v\nSQL: %s\nargs: %#v", tc.q, err, where, args)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("SQL for %q selects %v, want %v\nSQL: %s\nargs: %#v", tc.q, got, tc.want, where, args)
		}
		if m := matchIDs(n, events); !reflect.DeepEqual(m, tc.want) {
			t.Errorf("Match for %q accepts %v, want %v", tc.q, m, tc.want)
		}
		if m := matcherIDs(t, n, events); !reflect.DeepEqual(m, tc.want) {
			t.Errorf("Matcher for %q accepts %v, want %v", tc.q, m, tc.want)
		}
	}
}

// TestFilterOverApproximates runs the search cases through CompileFilter
// on the store's table without doc, message and original: the filter keeps
// every matching event, Match on what it keeps gives the exact answer, and
// a filter that says it is exact is.
func TestFilterOverApproximates(t *testing.T) {
	events := fixtureEvents()
	db := openColumnsDB(t, events)
	byID := map[string]*event.Event{}
	for _, e := range events {
		byID[e.String(event.FieldID)] = e
	}
	exactly := map[bool]int{}
	for _, tc := range searchCases {
		n, err := Parse(tc.q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.q, err)
		}
		where, args, exact, err := CompileFilter(n)
		if err != nil {
			t.Fatalf("CompileFilter(%q): %v", tc.q, err)
		}
		exactly[exact]++
		kept, err := sqlRowIDs(t, db, events, where, args)
		if err != nil {
			t.Errorf("filter %q: %v\nSQL: %s", tc.q, err, where)
			continue
		}
		var checked []string
		keptSet := map[string]bool{}
		for _, id := range kept {
			keptSet[id] = true
			if Match(n, byID[id]) {
				checked = append(checked, id)
			}
		}
		for _, id := range tc.want {
			if !keptSet[id] {
				t.Errorf("filter for %q drops %s, which matches\nSQL: %s %#v", tc.q, id, where, args)
			}
		}
		if checked == nil {
			checked = []string{}
		}
		if !reflect.DeepEqual(checked, tc.want) {
			t.Errorf("filter then Match for %q gives %v, want %v", tc.q, checked, tc.want)
		}
		if exact && !reflect.DeepEqual(kept, tc.want) {
			t.Errorf("filter for %q claims to be exact but keeps %v, want %v\nSQL: %s", tc.q, kept, tc.want, where)
		}
	}
	if exactly[true] == 0 || exactly[false] == 0 {
		t.Errorf("exact filters: %d, inexact: %d; the cases should have both", exactly[true], exactly[false])
	}
}

func TestFilterExactness(t *testing.T) {
	for _, tc := range []struct {
		q     string
		exact bool
		where string
	}{
		{"user.name:alice AND source.ip:10.0.0.0/8", true, "((user_name = ?) AND (source_ip4 BETWEEN ? AND ?))"},
		{"destination.port:[1 TO 1024] OR related.ip:10.0.0.1", true, "((destination_port >= ? AND destination_port <= ?) OR list_contains(related_ip, ?))"},
		{"url.path:/admin/*", false, "TRUE"},
		{"user.name:alice AND url.path:/admin/*", false, "((user_name = ?) AND TRUE)"},
		{"NOT url.path:/admin/*", false, "NOT coalesce(FALSE, FALSE)"},
		{"NOT (user.name:alice AND url.path:x)", false, "NOT coalesce(((user_name = ?) AND FALSE), FALSE)"},
		{"NOT NOT url.path:x", false, "NOT coalesce(NOT coalesce(TRUE, FALSE), FALSE)"},
	} {
		n, err := Parse(tc.q)
		if err != nil {
			t.Fatal(err)
		}
		where, _, exact, err := CompileFilter(n)
		if err != nil {
			t.Fatal(err)
		}
		if exact != tc.exact || where != tc.where {
			t.Errorf("CompileFilter(%q) = %s, exact %v; want %s, exact %v", tc.q, where, exact, tc.where, tc.exact)
		}
	}
	// A keyword is exact only when the store promotes the text it searches.
	n, _ := Parse("ws-alice")
	where, _, exact, err := CompileFilter(n)
	if err != nil {
		t.Fatal(err)
	}
	textPromoted := resolve(event.FieldMessage).promoted && resolve(event.FieldOriginal).promoted
	if exact != textPromoted || strings.Contains(where, "TRUE") == textPromoted {
		t.Errorf("CompileFilter(ws-alice) = %s, exact %v; message and original promoted: %v", where, exact, textPromoted)
	}
}

// TestMatchAgreesWithSQL runs every query of the parser tests, whatever it
// means, and checks that Match and the SQL select the same events.
func TestMatchAgreesWithSQL(t *testing.T) {
	events := fixtureEvents()
	db := openFixtureDB(t, events)
	for _, tc := range validQueries {
		n, err := Parse(tc.in)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.in, err)
		}
		where, args, err := Compile(n)
		if err != nil {
			t.Fatalf("Compile(%q): %v", tc.in, err)
		}
		got, err := sqlIDs(t, db, where, args)
		if err != nil {
			t.Errorf("query %q: %v\nSQL: %s", tc.in, err, where)
			continue
		}
		if m := matchIDs(n, events); !reflect.DeepEqual(m, got) {
			t.Errorf("%q: Match accepts %v, SQL selects %v", tc.in, m, got)
		}
		if m := matcherIDs(t, n, events); !reflect.DeepEqual(m, got) {
			t.Errorf("%q: Matcher accepts %v, SQL selects %v", tc.in, m, got)
		}
	}
}

// sqlLiterals are the only quoted literals Compile ever writes.
var sqlLiterals = regexp.MustCompile(`'ARRAY'|'OBJECT'|'\$'|'\\'|''`)

func TestInjectionStaysData(t *testing.T) {
	events := fixtureEvents()
	db := openFixtureDB(t, events)
	for _, tc := range []struct {
		q       string
		want    []string
		wantErr bool
	}{
		{q: `user.name:"x' OR 1=1 --"`, want: ids("e13")},
		{q: `"a'); DROP TABLE events;--"`, want: ids("e13")},
		{q: `a'); DROP TABLE events;--`, wantErr: true},
		{q: `"a'b":c`, want: ids("")},
		{q: `"labels.a'b":c`, want: ids("e14")},
		{q: `"x\") OR 1=1 --.y":z`, want: ids("")},
		{q: `"a\"]') OR TRUE OR json_exists(doc, '$":x`, want: ids("")},
		{q: `user.name:*'\;\ DROP\ TABLE\ events\;\ --*`, want: ids("")},
		{q: `message:"%' OR '%'='"`, want: ids("")},
		{q: `message:*%'*`, want: ids("")},
		{q: `url.query:id=1\'\ OR\ \'1\'=\'1`, want: ids("e13")},
		{q: `destination.port:[1 TO "1); DROP TABLE events; --"]`, wantErr: true},
		{q: `_exists_:"a') OR 1=1 OR json_exists(doc, '$"`, want: ids("")},
		{q: `NOT _exists_:"a') OR 1=1 --"`, want: allBut("")},
		{q: `"tags[*]":prod`, want: ids("")}, // a path, not a wildcard: tags:prod finds e18
		{q: `"labels.**":c`, want: ids("")},
		{q: `_exists_:"labels.*"`, wantErr: true}, // DuckDB would read "*" as a wildcard
		{q: `"$..x":y`, wantErr: true},
		{q: `source.ip:"1.1.1.1/0' OR 1=1"`, want: ids("")},
		{q: `@timestamp:"2024-05-01'; DROP TABLE events"`, wantErr: true},
		{q: `related.ip:"10.0.0.0/8') OR TRUE --"`, want: ids("")},
	} {
		where, args, err := ToSQL(tc.q)
		if tc.wantErr {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Errorf("ToSQL(%q) = %v, want a *SyntaxError", tc.q, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ToSQL(%q): %v", tc.q, err)
			continue
		}
		// No user text in the SQL: no quotes but Compile's own literals,
		// no statement separators or comments.
		if rest := sqlLiterals.ReplaceAllString(where, ""); strings.ContainsAny(rest, `'";`) || strings.Contains(rest, "--") || strings.Contains(strings.ToUpper(rest), "DROP") {
			t.Errorf("ToSQL(%q) writes user text into SQL: %s", tc.q, where)
		}
		got, err := sqlIDs(t, db, where, args)
		if err != nil {
			t.Errorf("query %q: %v\nSQL: %s\nargs: %#v", tc.q, err, where, args)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q selects %v, want %v", tc.q, got, tc.want)
		}
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM events").Scan(&n); err != nil || n != len(events) {
		t.Fatalf("events table after the attempts: %d rows, %v; want %d", n, err, len(events))
	}
}

// alicePattern is the word-match pattern of the keyword alice.
const alicePattern = `(?s)(?:^|[^\pL\pN\pM])alice(?:$|[^\pL\pN\pM])`

func TestCompileShape(t *testing.T) {
	for _, tc := range []struct {
		q, where string
		args     []any
	}{
		{"", "TRUE", nil},
		{"user.name:alice", "(user_name = ?)", []any{"alice"}},
		{"user.name:adm*", `(user_name LIKE ? ESCAPE '\')`, []any{"adm%"}},
		{`user.name:a%_\*b`, `(user_name = ?)`, []any{`a%_*b`}},
		{`user.name:a%_\**`, `(user_name LIKE ? ESCAPE '\')`, []any{`a\%\_*%`}},
		{"event.category:network", "list_contains(event_category, ?)", []any{"network"}},
		{"event.category:net*", `(len(list_filter(event_category, x -> (x LIKE ? ESCAPE '\'))) > 0)`, []any{"net%"}},
		{"destination.port:443", "(destination_port = ?)", []any{int64(443)}},
		{"destination.port:[1 TO 1024}", "(destination_port >= ? AND destination_port < ?)", []any{int64(1), int64(1024)}},
		// IPv4 CIDRs on source and destination: ranges of their V4 columns
		{"source.ip:10.0.0.0/8", "(source_ip4 BETWEEN ? AND ?)", []any{uint32(0x0a000000), uint32(0x0affffff)}},
		{"destination.ip:10.0.0.0/12", "(destination_ip4 BETWEEN ? AND ?)", []any{uint32(0x0a000000), uint32(0x0a0fffff)}},
		{"source.ip:0.0.0.0/0", "(source_ip4 BETWEEN ? AND ?)", []any{uint32(0), uint32(0xffffffff)}},
		// other IP columns, and IPv6, test the text
		{"related.ip:10.0.0.0/8", "(len(list_filter(related_ip, x -> (starts_with(x, ?)))) > 0)", []any{"10."}},
		{"source.ip:2001:db8::/32", "(CASE WHEN starts_with(source_ip, ?) THEN ip_in_cidr(source_ip, ?) ELSE FALSE END)", []any{"2001:db8:", "2001:db8::/32"}},
		{"source.ip:::ffff:10.0.0.1", "(source_ip = ?)", []any{"10.0.0.1"}},
		{"related.ip:10.0.0.1", "list_contains(related_ip, ?)", []any{"10.0.0.1"}},
		{"_exists_:user.name", "(user_name <> '')", nil},
		{"NOT user.name:alice", "NOT coalesce((user_name = ?), FALSE)", []any{"alice"}},
		{"_exists_:source.nat.ip", "json_exists(doc, ?)", []any{`$."source"."nat"."ip"`}},
		{"event.type:denied",
			`CASE WHEN contains(doc, ?) THEN list_contains(CASE json_type(doc, ?) WHEN 'ARRAY' THEN list_transform(json_extract(doc, ?), v -> CASE WHEN json_type(v) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(v, '$') END) WHEN 'OBJECT' THEN CAST([] AS VARCHAR[]) ELSE [json_extract_string(doc, ?)] END, ?) ELSE FALSE END`,
			[]any{"denied", `$."event"."type"`, `$."event"."type"[*]`, `$."event"."type"`, "denied"}},
		{"Alice", "((regexp_matches(lower(original), ?)) OR (regexp_matches(lower(message), ?)) OR " +
			"(len(list_filter(related_user, x -> (lower(x) = ?))) > 0) OR (len(list_filter(related_hosts, x -> (lower(x) = ?))) > 0) OR " +
			"(len(list_filter(CASE json_type(doc, ?) WHEN 'ARRAY' THEN list_transform(json_extract(doc, ?), v -> CASE WHEN json_type(v) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(v, '$') END) WHEN 'OBJECT' THEN CAST([] AS VARCHAR[]) ELSE [json_extract_string(doc, ?)] END, x -> (lower(x) = ?))) > 0))",
			[]any{alicePattern, alicePattern, "alice", "alice", `$."related"."hash"`, `$."related"."hash"[*]`, `$."related"."hash"`, "alice"}},
	} {
		where, args, err := ToSQL(tc.q)
		if err != nil {
			t.Errorf("ToSQL(%q): %v", tc.q, err)
			continue
		}
		if where != tc.where || !reflect.DeepEqual(args, tc.args) {
			t.Errorf("ToSQL(%q) =\n  %s %#v\nwant\n  %s %#v", tc.q, where, args, tc.where, tc.args)
		}
	}
}

func TestMatchIgnoresInvalidTrees(t *testing.T) {
	e := fixtureEvents()[0]
	for _, n := range []Node{
		&Term{Field: "destination.port", Value: "abc"},
		&Term{Field: "a..b", Value: "x"},
		&Wildcard{Field: event.FieldTimestamp, Pattern: "2024*"},
		&Range{Field: "source.port", Lo: Bound{Value: "x", Inclusive: true}, Hi: Bound{Open: true}},
		&And{},
	} {
		if Match(n, e) {
			t.Errorf("Match(%s) = true for a tree Compile rejects", n)
		}
		if _, _, err := Compile(n); err == nil {
			t.Errorf("Compile(%s) succeeded", n)
		}
		if _, err := NewMatcher(n); err == nil {
			t.Errorf("NewMatcher(%s) succeeded", n)
		}
	}
}
