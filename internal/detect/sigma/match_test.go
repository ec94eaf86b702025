package sigma

import (
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// ruleWith wraps a detection block (indented by four spaces) in a rule.
func ruleWith(detection string) string {
	var b strings.Builder
	b.WriteString("title: test rule\nid: 00000000-0000-4000-8000-000000000001\nlogsource:\n    product: test\ndetection:\n")
	for _, line := range strings.Split(strings.Trim(detection, "\n"), "\n") {
		b.WriteString("    " + line + "\n")
	}
	b.WriteString("level: high\n")
	return b.String()
}

func compileDetection(t *testing.T, detection string, opts CompileOptions) *Matcher {
	t.Helper()
	rules, err := Parse("test.yml", []byte(ruleWith(detection)))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, ruleWith(detection))
	}
	m, err := Compile(rules[0], opts)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return m
}

// ev builds an event from field, value pairs.
func ev(kv ...any) *event.Event {
	e := event.New(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		e.Set(kv[i].(string), kv[i+1])
	}
	return e
}

type matchCase struct {
	name      string
	detection string
	match     []*event.Event
	noMatch   []*event.Event
	opts      CompileOptions
}

func runMatchCases(t *testing.T, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := compileDetection(t, c.detection, c.opts)
			for i, e := range c.match {
				if !m.Match(e) {
					t.Errorf("event %d (%v) should match", i, fieldsOf(e))
				}
			}
			for i, e := range c.noMatch {
				if m.Match(e) {
					t.Errorf("event %d (%v) should not match", i, fieldsOf(e))
				}
			}
		})
	}
}

func fieldsOf(e *event.Event) map[string]any {
	out := map[string]any{}
	e.Range(func(k string, v any) { out[k] = v })
	return out
}

func TestValues(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name:      "plain value is whole and case-insensitive",
			detection: "sel:\n    a: ConsoleLogin\ncondition: sel",
			match:     []*event.Event{ev("a", "ConsoleLogin"), ev("a", "consolelogin"), ev("a", "CONSOLELOGIN")},
			noMatch:   []*event.Event{ev("a", "ConsoleLogin2"), ev("a", "xConsoleLogin"), ev("b", "ConsoleLogin"), ev()},
		},
		{
			name:      "non-ASCII letters fold too",
			detection: "sel:\n    a: 'ÄRGER'\ncondition: sel",
			match:     []*event.Event{ev("a", "ärger"), ev("a", "Ärger")},
			noMatch:   []*event.Event{ev("a", "arger")},
		},
		{
			name:      "a list of values is OR",
			detection: "sel:\n    a:\n        - one\n        - two\ncondition: sel",
			match:     []*event.Event{ev("a", "one"), ev("a", "TWO")},
			noMatch:   []*event.Event{ev("a", "three")},
		},
		{
			name:      "map entries are AND",
			detection: "sel:\n    a: one\n    b: two\ncondition: sel",
			match:     []*event.Event{ev("a", "one", "b", "two")},
			noMatch:   []*event.Event{ev("a", "one"), ev("b", "two"), ev("a", "one", "b", "three")},
		},
		{
			name:      "a list of maps is OR",
			detection: "sel:\n    - a: one\n    - b: two\ncondition: sel",
			match:     []*event.Event{ev("a", "one"), ev("b", "two")},
			noMatch:   []*event.Event{ev("a", "two"), ev()},
		},
		{
			name:      "wildcards",
			detection: "sel:\n    a: 'ad*n?str*'\ncondition: sel",
			match:     []*event.Event{ev("a", "administrator"), ev("a", "ADMINISTRATORS"), ev("a", "adXnXstr")},
			noMatch:   []*event.Event{ev("a", "adnstr"), ev("a", "xadministrator"), ev("a", "admin")},
		},
		{
			name:      "? is one character, also outside ASCII",
			detection: "sel:\n    a: 'caf?'\ncondition: sel",
			match:     []*event.Event{ev("a", "café"), ev("a", "cafe")},
			noMatch:   []*event.Event{ev("a", "caf"), ev("a", "cafés")},
		},
		{
			name:      "escaped wildcards are literal",
			detection: "sel:\n    a: 'a\\*b\\?c'\ncondition: sel",
			match:     []*event.Event{ev("a", "a*b?c")},
			noMatch:   []*event.Event{ev("a", "aXbYc"), ev("a", "a*bYc")},
		},
		{
			name:      "escaped backslash before a wildcard",
			detection: "sel:\n    a: 'C:\\\\*'\ncondition: sel",
			match:     []*event.Event{ev("a", `C:\Windows`), ev("a", `c:\`)},
			noMatch:   []*event.Event{ev("a", "C:Windows")},
		},
		{
			name:      "a lone backslash is literal",
			detection: "sel:\n    a: 'C:\\Windows\\System32'\ncondition: sel",
			match:     []*event.Event{ev("a", `C:\Windows\System32`)},
		},
		{
			name:      "three backslashes: a backslash and a literal star",
			detection: "sel:\n    a: 'x\\\\\\*'\ncondition: sel",
			match:     []*event.Event{ev("a", `x\*`)},
			noMatch:   []*event.Event{ev("a", `x\yz`)},
		},
		{
			name:      "a lone star means any value",
			detection: "sel:\n    a: '*'\ncondition: sel",
			match:     []*event.Event{ev("a", "x"), ev("a", int64(1))},
			noMatch:   []*event.Event{ev("b", "x")},
		},
		{
			name:      "null means absent",
			detection: "sel:\n    a: x\n    b: null\ncondition: sel",
			match:     []*event.Event{ev("a", "x")},
			noMatch:   []*event.Event{ev("a", "x", "b", "y")},
		},
		{
			name:      "empty text means absent (mamori stores no empty values)",
			detection: "sel:\n    b: ''\ncondition: sel",
			match:     []*event.Event{ev("a", "x")},
			noMatch:   []*event.Event{ev("b", "y")},
		},
		{
			name:      "null among values",
			detection: "sel:\n    b:\n        - null\n        - y\ncondition: sel",
			match:     []*event.Event{ev(), ev("b", "y")},
			noMatch:   []*event.Event{ev("b", "z")},
		},
		{
			name:      "numbers equal numbers and their text",
			detection: "sel:\n    port: 443\ncondition: sel",
			match:     []*event.Event{ev("port", int64(443)), ev("port", "443"), ev("port", 443.0)},
			noMatch:   []*event.Event{ev("port", int64(4430)), ev("port", "0443")},
		},
		{
			name:      "a numeric text equals the number",
			detection: "sel:\n    port: '22'\ncondition: sel",
			match:     []*event.Event{ev("port", int64(22))},
		},
		{
			name:      "wildcards over numbers",
			detection: "sel:\n    code: '5*'\ncondition: sel",
			match:     []*event.Event{ev("code", int64(50126)), ev("code", "500")},
			noMatch:   []*event.Event{ev("code", int64(450))},
		},
		{
			name:      "booleans",
			detection: "sel:\n    ok: 'false'\ncondition: sel",
			match:     []*event.Event{ev("ok", false), ev("ok", "False")},
			noMatch:   []*event.Event{ev("ok", true)},
		},
		{
			name:      "a list field matches when any element does",
			detection: "sel:\n    tags: b\ncondition: sel",
			match:     []*event.Event{ev("tags", []string{"a", "b"}), ev("tags", []any{"x", "B"})},
			noMatch:   []*event.Event{ev("tags", []string{"a", "c"})},
		},
		{
			name:      "a path into a list of objects",
			detection: "sel:\n    dns.answers.data: 203.0.113.80\ncondition: sel",
			match: []*event.Event{ev("dns.answers", []any{
				map[string]any{"data": "192.0.2.1", "type": "A"},
				map[string]any{"data": "203.0.113.80", "type": "A"},
			})},
			noMatch: []*event.Event{ev("dns.answers", []any{map[string]any{"data": "192.0.2.1"}})},
		},
		{
			name:      "a path through nested lists of objects",
			detection: "sel:\n    az.targets.modified.new_value|contains: admin\ncondition: sel",
			match: []*event.Event{ev("az.targets", []any{
				map[string]any{"id": "u1", "modified": []any{map[string]any{"name": "Role", "new_value": "\"Global Admin\""}}},
			})},
			noMatch: []*event.Event{ev("az.targets", []any{map[string]any{"id": "admin"}})},
		},
		{
			name:      "a list of objects matches when a value inside one does",
			detection: "sel:\n    az.targets|contains: '62e90394'\ncondition: sel",
			match: []*event.Event{ev("az.targets", []any{
				map[string]any{"id": "u1", "modified": []any{map[string]any{"new_value": "[\"62e90394-69f5\"]"}}},
			})},
			noMatch: []*event.Event{ev("az.targets", []any{map[string]any{"id": "u1"}})},
		},
		{
			name:      "times compare as RFC 3339 text",
			detection: "sel:\n    t|startswith: '2024-03-01T'\ncondition: sel",
			match:     []*event.Event{ev("t", time.Date(2024, 3, 1, 9, 0, 0, 0, time.UTC))},
			noMatch:   []*event.Event{ev("t", time.Date(2024, 3, 2, 9, 0, 0, 0, time.UTC))},
		},
	})
}

func TestModifiers(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name:      "contains",
			detection: "sel:\n    a|contains: 'Get-Secret'\ncondition: sel",
			match:     []*event.Event{ev("a", "x get-secret y"), ev("a", "GET-SECRET")},
			noMatch:   []*event.Event{ev("a", "get secret")},
		},
		{
			name:      "startswith",
			detection: "sel:\n    a|startswith: 'Adm'\ncondition: sel",
			match:     []*event.Event{ev("a", "admin"), ev("a", "ADM")},
			noMatch:   []*event.Event{ev("a", "xadmin")},
		},
		{
			name:      "endswith",
			detection: "sel:\n    a|endswith: '.EXE'\ncondition: sel",
			match:     []*event.Event{ev("a", "c:\\x.exe")},
			noMatch:   []*event.Event{ev("a", "x.exe.txt")},
		},
		{
			name:      "contains with inner wildcard",
			detection: "sel:\n    a|contains: 'cat*history'\ncondition: sel",
			match:     []*event.Event{ev("a", "x; cat /dev/null > ~/.bash_history; y")},
			noMatch:   []*event.Event{ev("a", "history cat")},
		},
		{
			name:      "all makes a list AND",
			detection: "sel:\n    a|contains|all:\n        - one\n        - two\ncondition: sel",
			match:     []*event.Event{ev("a", "two and one")},
			noMatch:   []*event.Event{ev("a", "one only")},
		},
		{
			name:      "all over a list field needs every value somewhere",
			detection: "sel:\n    tags|all:\n        - a\n        - c\ncondition: sel",
			match:     []*event.Event{ev("tags", []string{"a", "b", "c"})},
			noMatch:   []*event.Event{ev("tags", []string{"a", "b"})},
		},
		{
			name:      "cased",
			detection: "sel:\n    a|cased: 'Admin'\ncondition: sel",
			match:     []*event.Event{ev("a", "Admin")},
			noMatch:   []*event.Event{ev("a", "admin")},
		},
		{
			name:      "cased with contains",
			detection: "sel:\n    a|contains|cased: ' -O '\ncondition: sel",
			match:     []*event.Event{ev("a", "wget -O /tmp/x")},
			noMatch:   []*event.Event{ev("a", "wget -o /tmp/x")},
		},
		{
			name:      "re searches and is case-sensitive",
			detection: "sel:\n    a|re: '\\s-[FTd]\\s'\ncondition: sel",
			match:     []*event.Event{ev("a", "curl -F x"), ev("a", "curl -d x")},
			noMatch:   []*event.Event{ev("a", "curl -f x")},
		},
		{
			name:      "re|i",
			detection: "sel:\n    a|re|i: '^admin[0-9]+$'\ncondition: sel",
			match:     []*event.Event{ev("a", "ADMIN42")},
			noMatch:   []*event.Event{ev("a", "admin")},
		},
		{
			name:      "re|m anchors at lines",
			detection: "sel:\n    a|re|m: '^second$'\ncondition: sel",
			match:     []*event.Event{ev("a", "first\nsecond\nthird")},
			noMatch:   []*event.Event{ev("a", "first second")},
		},
		{
			name:      "re|s lets dot match newlines",
			detection: "sel:\n    a|re|s: 'begin.*end'\ncondition: sel",
			match:     []*event.Event{ev("a", "begin\nend")},
		},
		{
			name:      "re without s stops at newlines",
			detection: "sel:\n    a|re: 'begin.*end'\ncondition: sel",
			noMatch:   []*event.Event{ev("a", "begin\nend")},
		},
		{
			name:      "re over numbers",
			detection: "sel:\n    port|re: '^44[0-9]$'\ncondition: sel",
			match:     []*event.Event{ev("port", int64(443))},
		},
		{
			name:      "cidr",
			detection: "sel:\n    ip|cidr:\n        - 10.0.0.0/8\n        - '2001:db8::/32'\ncondition: sel",
			match:     []*event.Event{ev("ip", "10.1.2.3"), ev("ip", "2001:db8::7"), ev("ip", "::ffff:10.0.0.1"), ev("ip", []string{"192.0.2.1", "10.9.9.9"})},
			noMatch:   []*event.Event{ev("ip", "11.0.0.1"), ev("ip", "not an address"), ev("ip", "2001:db9::1")},
		},
		{
			name:      "base64",
			detection: "sel:\n    a|base64: 'secret'\ncondition: sel",
			match:     []*event.Event{ev("a", "c2VjcmV0")},
			noMatch:   []*event.Event{ev("a", "C2VJCMV0"), ev("a", "secret")},
		},
		{
			name:      "base64 then contains",
			detection: "sel:\n    a|base64|contains: 'secret'\ncondition: sel",
			match:     []*event.Event{ev("a", "xx c2VjcmV0 yy")},
		},
		{
			name:      "base64offset finds the value at every offset",
			detection: "sel:\n    a|base64offset|contains: 'http://'\ncondition: sel",
			match: []*event.Event{
				ev("a", "aHR0cDovL2V4YW1wbGU="), // "http://example"
				ev("a", "eGh0dHA6Ly9leGFtcGxl"), // "xhttp://example"
				ev("a", "eHhodHRwOi8vZXhhbXBsZQ=="),
			},
			noMatch: []*event.Event{ev("a", "aHR0cHM6Ly9leGFtcGxl")}, // "https://example"
		},
		{
			name:      "utf16le with base64offset (PowerShell -enc)",
			detection: "sel:\n    a|utf16le|base64offset|contains: 'IEX'\ncondition: sel",
			// "xIEX (" in UTF-16LE, base64: eABJAEUAWAAgACgA
			match:   []*event.Event{ev("a", "powershell -enc eABJAEUAWAAgACgA")},
			noMatch: []*event.Event{ev("a", "powershell -enc aQBlAHgA")},
		},
		{
			name:      "wide is utf16le",
			detection: "sel:\n    a|wide|base64: 'ab'\ncondition: sel",
			match:     []*event.Event{ev("a", "YQBiAA==")},
		},
		{
			name:      "utf16be",
			detection: "sel:\n    a|utf16be|base64: 'ab'\ncondition: sel",
			match:     []*event.Event{ev("a", "AGEAYg==")},
		},
		{
			name:      "utf16 has a byte order mark",
			detection: "sel:\n    a|utf16|base64: 'ab'\ncondition: sel",
			match:     []*event.Event{ev("a", "//5hAGIA")},
		},
		{
			name:      "windash",
			detection: "sel:\n    a|windash|contains: ' -exec '\ncondition: sel",
			match:     []*event.Event{ev("a", "x -exec y"), ev("a", "x /exec y"), ev("a", "x \u2013exec y"), ev("a", "x \u2014exec y"), ev("a", "x \u2015exec y")},
			noMatch:   []*event.Event{ev("a", "x +exec y")},
		},
		{
			name:      "windash leaves dashes inside words",
			detection: "sel:\n    a|windash: 'x-ray -v'\ncondition: sel",
			match:     []*event.Event{ev("a", "x-ray /v")},
			noMatch:   []*event.Event{ev("a", "x/ray -v")},
		},
		{
			name:      "exists true",
			detection: "sel:\n    a|exists: true\ncondition: sel",
			match:     []*event.Event{ev("a", "x"), ev("a", int64(0))},
			noMatch:   []*event.Event{ev("b", "x")},
		},
		{
			name:      "exists false",
			detection: "sel:\n    a|exists: false\ncondition: sel",
			match:     []*event.Event{ev("b", "x")},
			noMatch:   []*event.Event{ev("a", "x")},
		},
		{
			name:      "gt and lte",
			detection: "sel:\n    n|gt: 10\n    m|lte: 2.5\ncondition: sel",
			match:     []*event.Event{ev("n", int64(11), "m", 2.5), ev("n", "10.5", "m", int64(1))},
			noMatch:   []*event.Event{ev("n", int64(10), "m", 1.0), ev("n", int64(11), "m", 3.0), ev("n", "many", "m", 1.0)},
		},
		{
			name:      "gte and lt",
			detection: "sel:\n    n|gte: 7\n    m|lt: 0\ncondition: sel",
			match:     []*event.Event{ev("n", int64(7), "m", -1.0)},
			noMatch:   []*event.Event{ev("n", 6.9, "m", -1.0), ev("n", int64(7), "m", int64(0))},
		},
		{
			name:      "neq",
			detection: "sel:\n    a: x\n    b|neq:\n        - y\n        - z\ncondition: sel",
			match:     []*event.Event{ev("a", "x", "b", "w"), ev("a", "x")},
			noMatch:   []*event.Event{ev("a", "x", "b", "Y"), ev("a", "x", "b", "z")},
		},
		{
			name:      "fieldref",
			detection: "sel:\n    user|fieldref: target\ncondition: sel",
			match:     []*event.Event{ev("user", "alice", "target", "Alice")},
			noMatch:   []*event.Event{ev("user", "alice", "target", "bob"), ev("user", "alice")},
		},
		{
			name:      "fieldref with endswith",
			detection: "sel:\n    arn|fieldref|endswith: name\ncondition: sel",
			match:     []*event.Event{ev("arn", "arn:aws:iam::1:user/bob", "name", "bob")},
			noMatch:   []*event.Event{ev("arn", "arn:aws:iam::1:user/bob", "name", "alice")},
		},
		{
			name:      "fieldref with neq",
			detection: "sel:\n    a|fieldref|neq: b\ncondition: sel",
			match:     []*event.Event{ev("a", "1", "b", "2")},
			noMatch:   []*event.Event{ev("a", "1", "b", "1")},
		},
		{
			name:      "expand with configured placeholders",
			detection: "sel:\n    host|expand: '%Servers%'\ncondition: sel",
			opts:      CompileOptions{Placeholders: map[string][]string{"Servers": {"srv-*", "db01"}}},
			match:     []*event.Event{ev("host", "srv-web"), ev("host", "DB01")},
			noMatch:   []*event.Event{ev("host", "ws-07")},
		},
		{
			name:      "expand keeps escaped percent signs",
			detection: "sel:\n    a|expand: '\\%x%P%'\ncondition: sel",
			opts:      CompileOptions{Placeholders: map[string][]string{"P": {"1"}}},
			match:     []*event.Event{ev("a", "%x1")},
		},
		{
			name:      "hour",
			detection: "sel:\n    t|hour|gte: 22\ncondition: sel",
			match:     []*event.Event{ev("t", time.Date(2024, 3, 1, 23, 0, 0, 0, time.UTC)), ev("t", "2024-03-01T22:30:00Z")},
			noMatch:   []*event.Event{ev("t", time.Date(2024, 3, 1, 21, 59, 0, 0, time.UTC))},
		},
		{
			name:      "minute, day, week, month, year",
			detection: "sel:\n    t|minute: 5\n    t|day: 1\n    t|week: 9\n    t|month: 3\n    t|year: 2024\ncondition: sel",
			match:     []*event.Event{ev("t", time.Date(2024, 3, 1, 10, 5, 0, 0, time.UTC))},
			noMatch:   []*event.Event{ev("t", time.Date(2024, 3, 1, 10, 6, 0, 0, time.UTC))},
		},
	})
}

func TestKeywords(t *testing.T) {
	runMatchCases(t, []matchCase{
		{
			name:      "keywords are found anywhere in the message",
			detection: "keywords:\n    - 'Accepted publickey'\n    - 'session opened'\ncondition: keywords",
			match:     []*event.Event{ev("message", "accepted PUBLICKEY for alice"), ev("message", "pam: session opened for root")},
			noMatch:   []*event.Event{ev("message", "Failed password"), ev("user.name", "Accepted publickey")},
		},
		{
			name:      "without a message, the record as it arrived",
			detection: "keywords:\n    - 'IP-TCP-3-BADAUTH'\ncondition: keywords",
			match:     []*event.Event{ev("event.original", "<1>%TCP-6-BADAUTH... IP-TCP-3-BADAUTH")},
		},
		{
			name:      "the message is the text when there is one",
			detection: "keywords:\n    - 'secret'\ncondition: keywords",
			noMatch:   []*event.Event{ev("message", "nothing here", "event.original", "secret header nothing here")},
		},
		{
			name:      "all keywords",
			detection: "keywords:\n    '|all':\n        - ':179'\n        - 'BADAUTH'\ncondition: keywords",
			match:     []*event.Event{ev("message", "from 10.0.0.1:179 BADAUTH")},
			noMatch:   []*event.Event{ev("message", "BADAUTH only")},
		},
		{
			name:      "keywords with wildcards",
			detection: "keywords:\n    - 'Trojan*FOUND'\ncondition: keywords",
			match:     []*event.Event{ev("message", "/tmp/x: Unix.Trojan.Agent FOUND")},
			noMatch:   []*event.Event{ev("message", "FOUND Trojan")},
		},
		{
			name:      "cased keywords",
			detection: "keywords:\n    '|cased':\n        - 'REPLACE'\ncondition: keywords",
			match:     []*event.Event{ev("message", "(root) REPLACE (root)")},
			noMatch:   []*event.Event{ev("message", "replace")},
		},
		{
			name:      "a keyword string alone",
			detection: "keywords: 'evil'\ncondition: keywords",
			match:     []*event.Event{ev("message", "an EVIL thing")},
		},
		{
			name:      "keywords and fields together",
			detection: "sel:\n    type: EXECVE\nkw:\n    - password\ncondition: sel and kw",
			match:     []*event.Event{ev("type", "EXECVE", "message", "grep password")},
			noMatch:   []*event.Event{ev("type", "PATH", "message", "grep password")},
		},
		{
			name:      "a list mixing values and maps",
			detection: "sel:\n    - 'needle'\n    - a: x\ncondition: sel",
			match:     []*event.Event{ev("message", "a needle"), ev("a", "x")},
			noMatch:   []*event.Event{ev("message", "hay")},
		},
	})
}

func TestConditions(t *testing.T) {
	sels := "selection_a:\n    a: 1\nselection_b:\n    b: 1\nfilter_x:\n    x: 1\n_helper:\n    h: 1\n"
	cases := []struct {
		cond  string
		match []*event.Event
		no    []*event.Event
	}{
		{"selection_a and not filter_x", []*event.Event{ev("a", "1")}, []*event.Event{ev("a", "1", "x", "1")}},
		{"selection_a or selection_b and filter_x", []*event.Event{ev("a", "1"), ev("b", "1", "x", "1")}, []*event.Event{ev("b", "1")}},
		{"(selection_a or selection_b) and filter_x", []*event.Event{ev("b", "1", "x", "1")}, []*event.Event{ev("a", "1")}},
		{"not selection_a and selection_b", []*event.Event{ev("b", "1")}, []*event.Event{ev("a", "1", "b", "1")}},
		{"not (selection_a and selection_b)", []*event.Event{ev("a", "1")}, []*event.Event{ev("a", "1", "b", "1")}},
		{"not not selection_a", []*event.Event{ev("a", "1")}, []*event.Event{ev("b", "1")}},
		{"1 of selection_*", []*event.Event{ev("a", "1"), ev("b", "1")}, []*event.Event{ev("x", "1")}},
		{"all of selection_*", []*event.Event{ev("a", "1", "b", "1")}, []*event.Event{ev("a", "1")}},
		{"any of selection*", []*event.Event{ev("b", "1")}, []*event.Event{ev("h", "1")}},
		{"1 of them", []*event.Event{ev("x", "1")}, []*event.Event{ev("h", "1")}},
		{"all of them", []*event.Event{ev("a", "1", "b", "1", "x", "1")}, []*event.Event{ev("a", "1", "b", "1", "h", "1")}},
		{"1 of selection_* and not 1 of filter*", []*event.Event{ev("a", "1")}, []*event.Event{ev("a", "1", "x", "1")}},
		{"1 of _help*", []*event.Event{ev("h", "1")}, []*event.Event{ev("a", "1")}},
		{"selection_a AND NOT filter_x", []*event.Event{ev("a", "1")}, []*event.Event{ev("a", "1", "x", "1")}},
		{"all of *_a or all of *_b", []*event.Event{ev("b", "1")}, []*event.Event{ev("x", "1")}},
	}
	for _, c := range cases {
		t.Run(c.cond, func(t *testing.T) {
			m := compileDetection(t, sels+"condition: "+c.cond, CompileOptions{})
			for _, e := range c.match {
				if !m.Match(e) {
					t.Errorf("%v should match", fieldsOf(e))
				}
			}
			for _, e := range c.no {
				if m.Match(e) {
					t.Errorf("%v should not match", fieldsOf(e))
				}
			}
		})
	}
	t.Run("a list of conditions is OR", func(t *testing.T) {
		m := compileDetection(t, sels+"condition:\n    - selection_a\n    - selection_b", CompileOptions{})
		if !m.Match(ev("b", "1")) || !m.Match(ev("a", "1")) || m.Match(ev("x", "1")) {
			t.Error("condition list is not OR")
		}
	})
}

// fieldTable maps names for TestFieldMapping.
type fieldTable map[string][]string

func (t fieldTable) Fields(f string) []string {
	if v, ok := t[f]; ok {
		return v
	}
	return []string{f}
}

func (t fieldTable) Value(f, v string) string {
	if f == "eventService" && strings.EqualFold(v, "admin.googleapis.com") {
		return "admin"
	}
	return v
}

func TestFieldMapping(t *testing.T) {
	opts := CompileOptions{Fields: fieldTable{"eventName": {"event.action"}, "Status": {"event.outcome", "status.reason"}, "eventService": {"event.provider"}}}
	runMatchCases(t, []matchCase{
		{
			name:      "a mapped name reads its ECS field",
			detection: "sel:\n    eventName: ConsoleLogin\ncondition: sel",
			opts:      opts,
			match:     []*event.Event{ev("event.action", "ConsoleLogin")},
			noMatch:   []*event.Event{ev("eventName", "ConsoleLogin")},
		},
		{
			name:      "a name mapped to several fields matches in any",
			detection: "sel:\n    Status|contains: 'MFA denied'\ncondition: sel",
			opts:      opts,
			match:     []*event.Event{ev("status.reason", "MFA denied; user declined")},
		},
		{
			name:      "negating a name mapped to several fields needs none to match",
			detection: "sel:\n    Status: success\ncondition: not sel",
			opts:      opts,
			match:     []*event.Event{ev("event.outcome", "failure")},
			noMatch:   []*event.Event{ev("event.outcome", "success"), ev("event.outcome", "failure", "status.reason", "success")},
		},
		{
			name:      "values translate",
			detection: "sel:\n    eventService: admin.googleapis.com\ncondition: sel",
			opts:      opts,
			match:     []*event.Event{ev("event.provider", "admin")},
		},
		{
			name:      "unmapped names are read as written",
			detection: "sel:\n    source.ip|cidr: 192.0.2.0/24\ncondition: sel",
			opts:      opts,
			match:     []*event.Event{ev("source.ip", "192.0.2.7")},
		},
		{
			name:      "fieldref maps both names",
			detection: "sel:\n    eventName|fieldref: Status\ncondition: sel",
			opts:      opts,
			match:     []*event.Event{ev("event.action", "x", "status.reason", "X")},
		},
	})
}

func TestCompileRejects(t *testing.T) {
	cases := []struct {
		name, detection, want string
		opts                  CompileOptions
	}{
		{"unknown modifier", "sel:\n    a|sorta: x\ncondition: sel", `unknown modifier "sorta"`, CompileOptions{}},
		{"two positions", "sel:\n    a|contains|startswith: x\ncondition: sel", "more than one of contains", CompileOptions{}},
		{"re flag without re", "sel:\n    a|i: x\ncondition: sel", "i is a flag of re", CompileOptions{}},
		{"re with contains", "sel:\n    a|re|contains: x\ncondition: sel", "re cannot be combined with contains", CompileOptions{}},
		{"lookahead", "sel:\n    a|re: 'foo(?=bar)'\ncondition: sel", "uses lookahead, which RE2", CompileOptions{}},
		{"negative lookbehind", "sel:\n    a|re: '(?<!x)foo'\ncondition: sel", "negative lookbehind", CompileOptions{}},
		{"backreference", "sel:\n    a|re: '(a)\\1'\ncondition: sel", "backreference", CompileOptions{}},
		{"bad regexp", "sel:\n    a|re: 'a(b'\ncondition: sel", "regular expression", CompileOptions{}},
		{"bad cidr", "sel:\n    a|cidr: 10.0.0.0/33\ncondition: sel", "is not an address range", CompileOptions{}},
		{"gt of text", "sel:\n    a|gt: many\ncondition: sel", "gt compares numbers", CompileOptions{}},
		{"exists of text", "sel:\n    a|exists: maybe\ncondition: sel", "exists takes true or false", CompileOptions{}},
		{"exists with contains", "sel:\n    a|exists|contains: true\ncondition: sel", "cannot be combined", CompileOptions{}},
		{"base64offset without contains", "sel:\n    a|base64offset: x\ncondition: sel", "add |contains", CompileOptions{}},
		{"contains before base64", "sel:\n    a|contains|base64: x\ncondition: sel", "base64 of a value with wildcards", CompileOptions{}},
		{"utf16 without base64", "sel:\n    a|utf16le: x\ncondition: sel", "UTF-16 without base64", CompileOptions{}},
		{"windash explosion", "sel:\n    a|windash: '-a -b -c -d -e -f'\ncondition: sel", "windash: too many", CompileOptions{}},
		{"expand without placeholders", "sel:\n    a|expand: '%Admins%'\ncondition: sel", "placeholder %Admins% has no configured values", CompileOptions{}},
		{"null with a modifier", "sel:\n    a|contains: null\ncondition: sel", "null (field absent) takes no modifiers", CompileOptions{}},
		{"all with null", "sel:\n    a|all:\n        - x\n        - null\ncondition: sel", "null (field absent) takes no modifiers", CompileOptions{}},
		{"keywords with exists", "kw:\n    '|exists': true\ncondition: kw", "keywords search text", CompileOptions{}},
		{"fieldref to a number", "sel:\n    a|fieldref: 5\ncondition: sel", "fieldref names another field", CompileOptions{}},
		{"time modifier with contains", "sel:\n    t|hour|contains: 5\ncondition: sel", "time modifier", CompileOptions{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rules, err := Parse("bad.yml", []byte(ruleWith(c.detection)))
			if err == nil && len(rules) == 1 {
				_, err = Compile(rules[0], c.opts)
			}
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			se, ok := AsError(err)
			if !ok || se.File != "bad.yml" || se.Line == 0 {
				t.Errorf("error %q lacks the file and line", err)
			}
		})
	}
}
