package query

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// validQueries maps queries to their normalised rendering.
var validQueries = []struct{ in, want string }{
	{"", "*"},
	{"  \t ", "*"},
	{"*", "*"},
	{"alice", "alice"},
	{`"failed password"`, `"failed password"`},
	{"user.name:alice", "user.name:alice"},
	{`user.name:"bob smith"`, `user.name:"bob smith"`},
	{"user.name: alice", "user.name:alice"},
	{"@timestamp:2024-05-01", "@timestamp:2024-05-01"},
	{"a b", "a AND b"},
	{"a OR b c", "a OR (b AND c)"},
	{"a AND b OR c", "(a AND b) OR c"},
	{"a && b || !c", "(a AND b) OR NOT c"},
	{"NOT a AND b", "NOT a AND b"},
	{"NOT a OR b", "NOT a OR b"},
	{"a NOT b", "a AND NOT b"},
	{"-a +b", "NOT a AND b"},
	{"- a", "NOT a"},
	{"NOT NOT a", "NOT NOT a"},
	{"NOT (a OR b)", "NOT (a OR b)"},
	{"NOT(a)", "NOT a"},
	{"a (b OR c)", "a AND (b OR c)"},
	{"(a AND b) AND c", "a AND b AND c"},
	{"a AND (b AND c)", "a AND b AND c"},
	{"a OR (b OR c)", "a OR b OR c"},
	{"((a))", "a"},
	{"and or not", "and AND or AND not"},
	{"ANDROID ORACLE NOTE", "ANDROID AND ORACLE AND NOTE"},
	{`\AND`, `\AND`},
	{"host.name:web-*", "host.name:web-*"},
	{"user.name:adm?n", "user.name:adm?n"},
	{`user.name:adm\?n`, `user.name:adm\?n`},
	{`host.name:web-\**`, `host.name:web-\**`},
	{`f:\*`, `f:\*`},
	{`"*"`, `"*"`},
	{"**", "*"},
	{"adm*", "adm*"},
	{"destination.port:[1 TO 1024]", "destination.port:[1 TO 1024]"},
	{"destination.port:{1 TO 1024]", "destination.port:{1 TO 1024]"},
	{"destination.port:[1 TO 1024}", "destination.port:[1 TO 1024}"},
	{"destination.port:[* TO 1024]", "destination.port:[* TO 1024]"},
	{"destination.port:{1024 TO *}", "destination.port:{1024 TO *]"},
	{"event.severity:>=7", "event.severity:[7 TO *]"},
	{"event.severity:>7", "event.severity:{7 TO *]"},
	{"event.severity:<7", "event.severity:[* TO 7}"},
	{"event.severity:<=7", "event.severity:[* TO 7]"},
	{"event.severity:> 7", "event.severity:{7 TO *]"},
	{`f:>"a b"`, `f:{a\ b TO *]`},
	{"@timestamp:[2024-05-01 TO *]", "@timestamp:[2024-05-01 TO *]"},
	{`f:["a b" TO "c"]`, `f:[a\ b TO c]`},
	{"source.ip:10.0.0.0/8", "source.ip:10.0.0.0/8"},
	{"related.ip:2001:db8::/32", "related.ip:2001:db8::/32"},
	{`source.ip:"2001:db8::1"`, `source.ip:"2001:db8::1"`},
	{"source.ip:2001:db8::1", "source.ip:2001:db8::1"},
	{"2001:db8::1", "2001:db8::1"},
	{"::1 OR fe80::/10", "::1 OR fe80::/10"},
	{"a:b::", "a:b::"},
	{"foo:bar:baz", "foo:bar:baz"},
	{"_exists_:user.name", "_exists_:user.name"},
	{"user.name:*", "_exists_:user.name"},
	{"NOT _exists_:user.name", "NOT _exists_:user.name"},
	{"user.name:(alice OR bob)", "user.name:alice OR user.name:bob"},
	{"user.name:(alice bob)", "user.name:alice AND user.name:bob"},
	{"user.name:(alice -bob)", "user.name:alice AND NOT user.name:bob"},
	{`user.name:(alice OR "bob smith" OR adm*)`, `user.name:alice OR user.name:"bob smith" OR user.name:adm*`},
	{"source.port:(>1024 AND <2048)", "source.port:{1024 TO *] AND source.port:[* TO 2048}"},
	{"related.ip:(10.0.0.1 OR 2001:db8::1)", "related.ip:10.0.0.1 OR related.ip:2001:db8::1"},
	{`"a'b":c`, `a'b:c`},
	{`"a b":c`, `a\ b:c`},
	{`a\:b`, `a\:b`},
	{`a\ b`, `a\ b`},
	{`message:"say \"hi\" \\o/"`, `message:"say \"hi\" \\o/"`},
	{"event.action:Reset AND NOT destination.port:443", "event.action:Reset AND NOT destination.port:443"},
	{`url.path:"/_vti_bin/owssvr.dll"`, `url.path:"/_vti_bin/owssvr.dll"`},
	{"url.path:/admin/*", "url.path:/admin/*"},
	{"f:-5", "f:-5"},
	{"f:a&&b", "f:a&&b"},
	{"a&&b", "a&&b"},
	{"a &&b", "a AND b"},
	{"x:<=-5", "x:[* TO -5]"},
	{"ab\"cd\"", `ab AND "cd"`},
	{"café", "café"},
}

func TestParseValid(t *testing.T) {
	for _, tc := range validQueries {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if got := n.String(); got != tc.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		checkRoundTrip(t, tc.in, n)
	}
}

// checkRoundTrip asserts that the rendering parses back to the same tree.
func checkRoundTrip(t *testing.T, q string, n Node) {
	t.Helper()
	s := n.String()
	back, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q) renders %q, which does not parse: %v", q, s, err)
	}
	if !reflect.DeepEqual(withoutPos(n), withoutPos(back)) {
		t.Fatalf("Parse(%q) renders %q, which parses to a different tree:\n%#v\nvs\n%#v", q, s, withoutPos(n), withoutPos(back))
	}
}

// withoutPos copies a tree with positions zeroed, for comparing trees
// parsed from different texts.
func withoutPos(n Node) Node {
	switch x := n.(type) {
	case *And:
		c := &And{}
		for _, m := range x.Nodes {
			c.Nodes = append(c.Nodes, withoutPos(m))
		}
		return c
	case *Or:
		c := &Or{}
		for _, m := range x.Nodes {
			c.Nodes = append(c.Nodes, withoutPos(m))
		}
		return c
	case *Not:
		return &Not{Node: withoutPos(x.Node)}
	case *Term:
		c := *x
		c.Pos = 0
		return &c
	case *Wildcard:
		c := *x
		c.Pos = 0
		return &c
	case *Exists:
		c := *x
		c.Pos = 0
		return &c
	case *Range:
		c := *x
		c.Pos = 0
		return &c
	}
	return n
}

func TestParseTree(t *testing.T) {
	n, err := Parse(`user.name:adm\*n* AND -host.name:"web 1" OR destination.port:{1 TO 5]`)
	if err != nil {
		t.Fatal(err)
	}
	want := &Or{Nodes: []Node{
		&And{Nodes: []Node{
			&Wildcard{Field: "user.name", Pattern: `adm\*n*`, Pos: 0},
			&Not{Node: &Term{Field: "host.name", Value: "web 1", Phrase: true, Pos: 23}},
		}},
		&Range{Field: "destination.port", Lo: Bound{Value: "1"}, Hi: Bound{Value: "5", Inclusive: true}, Pos: 44},
	}}
	if !reflect.DeepEqual(n, want) {
		t.Fatalf("got %s\nwant %s", dump(n), dump(want))
	}
}

func TestParseInvalid(t *testing.T) {
	deep := strings.Repeat("(", 200) + "a" + strings.Repeat(")", 200)
	for _, tc := range []struct {
		in   string
		pos  int
		want string
	}{
		{"user.name:", 10, "expected a value after 'user.name:' at 10, found end of query"},
		{"user.name:)", 10, "expected a value after 'user.name:' at 10, found ')'"},
		{"user.name: AND x", 11, "expected a value after 'user.name:' at 11, found 'AND'"},
		{"(a", 2, "expected ')' to close '(' at 2, found end of query"},
		{"a AND", 5, "expected a search term after 'AND' at 5, found end of query"},
		{"a &&", 4, "expected a search term after '&&' at 4, found end of query"},
		{"AND a", 0, "expected a search term at 0, found 'AND'"},
		{"a OR OR b", 5, "expected a search term after 'OR' at 5, found 'OR'"},
		{"a)", 1, "expected an operator or the end of the query at 1, found ')'"},
		{"()", 1, "expected a search term at 1, found ')'"},
		{"NOT", 3, "expected a search term after 'NOT' at 3, found end of query"},
		{"a -", 3, "expected a search term after '-' at 3, found end of query"},
		{`"abc`, 4, `expected '"' to close the phrase at 4, found end of query`},
		{`"ab\`, 4, `expected '"' to close the phrase at 4, found end of query`},
		{`""`, 0, "expected some text between the quotes at 0, found an empty phrase"},
		{`a\`, 2, `expected a character after '\' at 2, found end of query`},
		{":a", 0, "expected a search term at 0, found ':'"},
		{"a*:b", 0, "expected a field name without wildcards at 0, found 'a*'"},
		{"_exists_:", 9, "expected a field name after '_exists_:' at 9, found end of query"},
		{"_exists_:a*", 9, "expected a field name without wildcards at 9, found 'a*'"},
		{"f:()", 3, "expected a value for 'f' at 3, found ')'"},
		{"f:(a", 4, "expected ')' to close '(' at 4, found end of query"},
		{"f:[1 TO", 7, "expected a range end after 'TO' at 7, found end of query"},
		{"f:[1 5]", 5, "expected 'TO' in the range at 5, found '5]'"},
		{"f:[1 TO 5", 9, "expected ']' or '}' to close the range at 9, found end of query"},
		{"f:[TO 5]", 3, "expected a range start after '[' at 3, found 'TO'"},
		{"f:[a* TO b]", 3, "expected a range value without wildcards at 3, found 'a*'"},
		{"f:>", 3, "expected a value after '>' at 3, found end of query"},
		{"f:>=a*", 4, "expected a value after '>=' without wildcards at 4, found 'a*'"},
		{"destination.port:abc", 0, "expected a number for destination.port at 0, found 'abc'"},
		{"destination.port:[1 TO x]", 0, "expected a number for the range of destination.port at 0, found 'x'"},
		{"@timestamp:yesterday", 0, "expected a time (RFC 3339, or a date such as 2024-05-01) for @timestamp at 0, found 'yesterday'"},
		{"@timestamp:2024*", 0, "expected a time or a range for @timestamp (wildcards do not apply to times) at 0, found '2024*'"},
		{"a..b:c", 0, "expected a field name made of non-empty dot-separated parts at 0, found 'a..b'"},
		{`x AND a.\*:c`, 6, "expected a field name made of non-empty dot-separated parts at 6, found 'a.*'"},
		{`\_exists_:c`, 0, "expected a field name other than _exists_ at 0, found '_exists_'"},
		{"user.name:a\xffb", 11, "expected UTF-8 text at 11, found the byte 0xff"},
		{deep, 50, "expected at most 100 levels of nesting at 50, found more nesting"},
	} {
		_, err := Parse(tc.in)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, want a *SyntaxError", tc.in, err)
			continue
		}
		if se.Pos != tc.pos || se.Error() != tc.want {
			t.Errorf("Parse(%q): pos %d %q\n want pos %d %q", tc.in, se.Pos, se.Error(), tc.pos, tc.want)
		}
	}
}

// dump renders a tree with its types and positions, for failure messages.
func dump(n Node) string {
	switch x := n.(type) {
	case *And:
		return dumpList("And", x.Nodes)
	case *Or:
		return dumpList("Or", x.Nodes)
	case *Not:
		return "Not(" + dump(x.Node) + ")"
	}
	return fmt.Sprintf("%#v", n)
}

func dumpList(name string, nodes []Node) string {
	parts := make([]string, len(nodes))
	for i, c := range nodes {
		parts[i] = dump(c)
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}
