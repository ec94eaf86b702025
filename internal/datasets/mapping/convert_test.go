package mapping_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"
)

// TestTypes maps one JSON value {"v": ...} with one field of each type and
// option, and checks the value set, or that a value that does not convert
// leaves the field unset and is kept as text under the namespace.
func TestTypes(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		field string // the settings after from/to
		json  string // the value of "v"
		want  any    // nil: the field is not set
		raw   string // the text kept under t.v, "" for none
	}{
		{"", `"abc"`, "abc", ""},
		{"", `42`, "42", ""},
		{"", `{"a":1}`, `{"a":1}`, ""},
		{"", `"  "`, nil, ""},
		{"", `null`, nil, ""},
		{"type: int", `"42"`, int64(42), ""},
		{"type: int", `42`, int64(42), ""},
		{"type: int", `42.0`, int64(42), ""},
		{"type: int", `1e3`, int64(1000), ""},
		{"type: int", `"-7 "`, int64(-7), ""},
		{"type: int", `"4x"`, nil, "4x"},
		{"type: int", `4.5`, nil, "4.5"},
		{"type: float", `"4.5"`, 4.5, ""},
		{"type: float", `3`, 3.0, ""},
		{"type: float", `"x"`, nil, "x"},
		{"type: bool", `true`, true, ""},
		{"type: bool", `"yes"`, true, ""},
		{"type: bool", `"OFF"`, false, ""},
		{"type: bool", `0`, false, ""},
		{"type: bool", `"maybe"`, nil, "maybe"},
		{"type: ip", `"::ffff:10.0.0.1"`, "10.0.0.1", ""},
		{"type: ip", `"2001:DB8::1"`, "2001:db8::1", ""},
		{"type: ip", `"[2001:db8::2]"`, "2001:db8::2", ""},
		{"type: ip", `"300.1.1.1"`, nil, "300.1.1.1"},
		{"type: ip", `"10.0.0.1:80"`, nil, "10.0.0.1:80"},
		{"type: ip", `["10.0.0.1", "::1"]`, []string{"10.0.0.1", "::1"}, ""},
		{"type: ip", `["10.0.0.1", "x"]`, nil, `["10.0.0.1","x"]`},
		{"type: mac", `"00:50:56:aa:bb:cc"`, "00-50-56-AA-BB-CC", ""},
		{"type: mac", `"00-50-56-AA-BB-CC"`, "00-50-56-AA-BB-CC", ""},
		{"type: mac", `"0050.56aa.bbcc"`, "00-50-56-AA-BB-CC", ""},
		{"type: mac", `"005056aabbcc"`, "00-50-56-AA-BB-CC", ""},
		{"type: mac", `"zz:50:56:aa:bb:cc"`, nil, "zz:50:56:aa:bb:cc"},
		{"type: lower", `" TCP "`, "tcp", ""},
		{"type: upper", `"get"`, "GET", ""},
		{"type: int", `[1, "2"]`, []any{int64(1), int64(2)}, ""},
		{"type: list", `"a, b,,c"`, []string{"a", "b", "c"}, ""},
		{"type: list, separator: ';'", `"a;b c"`, []string{"a", "b c"}, ""},
		{"type: list", `["x", "y"]`, []string{"x", "y"}, ""},
		{"type: list", `[]`, nil, ""},
		{"type: list, map: {a: alpha}", `"a,b"`, []string{"alpha", "b"}, ""},
		{"map: {A: allow, B: ''}, default: deny", `"A"`, "allow", ""},
		{"map: {A: allow, B: ''}, default: deny", `"C"`, "deny", ""},
		{"map: {A: allow, B: ''}, default: deny", `"B"`, nil, ""},
		{"map: {A: allow}", `"C"`, "C", ""},
		{"map: {'1': TCP, '17': UDP}", `17`, "UDP", ""},
		{"type: int, map: {Low: '3', High: '8'}", `"High"`, int64(8), ""},
		{"type: time", `"2024-03-01T10:00:00+01:00"`, ts("2024-03-01T09:00:00Z"), ""},
		{"type: time", `"2024-03-01 10:00:00"`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time", `"2024-03-01 10:00:00.5 +0200"`, ts("2024-03-01T08:00:00.5Z"), ""},
		{"type: time", `1709287200`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time", `"1709287200123"`, ts("2024-03-01T10:00:00.123Z"), ""},
		{"type: time", `1709287200123456`, ts("2024-03-01T10:00:00.123456Z"), ""},
		{"type: time", `"Mar 01 2024 10:00:00"`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time", `"01/Mar/2024:10:00:00 -0500"`, ts("2024-03-01T15:00:00Z"), ""},
		{"type: time", `"Fri, 01 Mar 2024 10:00:00 +0000"`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time", `"2024-03-01"`, ts("2024-03-01T00:00:00Z"), ""},
		{"type: time", `"2024/03/01 10:00:00"`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time", `"Mar  1 11:00:00"`, ts("2024-03-01T11:00:00Z"), ""},
		{"type: time", `"yesterday"`, nil, "yesterday"},
		{"type: time", `"2024-13-01"`, nil, "2024-13-01"},
		{"type: time, timezone: Asia/Tokyo", `"2024-03-01 19:00:00"`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time, timezone: '-05:00'", `"2024-03-01T05:00:00"`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time, timezone: Asia/Tokyo", `"2024-03-01T10:00:00Z"`, ts("2024-03-01T10:00:00Z"), ""},
		{"type: time, layout: rfc3339", `"2024-03-01T10:00:00.25Z"`, ts("2024-03-01T10:00:00.25Z"), ""},
		{"type: time, layout: rfc3339", `"2024-03-01 10:00:00"`, nil, "2024-03-01 10:00:00"},
		{"type: time, layout: unix", `"1709287200.5"`, ts("2024-03-01T10:00:00.5Z"), ""},
		{"type: time, layout: unix_ms", `1709287200123`, ts("2024-03-01T10:00:00.123Z"), ""},
		{"type: time, layout: unix_us", `"1709287200000001"`, ts("2024-03-01T10:00:00.000001Z"), ""},
		{"type: time, layout: unix_ns", `"1709287200000000001"`, ts("2024-03-01T10:00:00.000000001Z"), ""},
		{"type: time, layout: unix", `"99999999999999999999"`, nil, "99999999999999999999"},
		{"type: time, layout: '2006/01/02 15:04'", `"2024/03/01 10:00"`, ts("2024-03-01T10:00:00Z"), ""},
		// Without a year: the one that does not put the time more than a
		// day after the receive time (2024-03-01 12:00 UTC).
		{"type: time, layout: 'Jan _2 15:04:05'", `"Mar  1 11:00:00"`, ts("2024-03-01T11:00:00Z"), ""},
		{"type: time, layout: 'Jan _2 15:04:05'", `"Dec 31 23:00:00"`, ts("2023-12-31T23:00:00Z"), ""},
		{"type: time, layout: 'Jan _2 15:04:05'", `"Mar  2 11:00:00"`, ts("2024-03-02T11:00:00Z"), ""},
	} {
		t.Run(tc.field+" "+tc.json, func(t *testing.T) {
			src := fmt.Sprintf("name: t\nformat: json\nfields:\n  - {from: v, to: x.out, %s}\n", tc.field)
			if tc.field == "" {
				src = "name: t\nformat: json\nfields:\n  - {from: v, to: x.out}\n"
			}
			d := load(t, src)
			ev := parseOne(t, d, `{"v": `+tc.json+`}`)
			got, ok := ev.Get("x.out")
			if tc.want == nil {
				if ok {
					t.Errorf("x.out = %#v, want unset", got)
				}
			} else if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("x.out = %#v (%T), want %#v (%T)", got, got, tc.want, tc.want)
			}
			if raw := ev.String("t.v"); raw != tc.raw {
				t.Errorf("kept raw text %q, want %q", raw, tc.raw)
			}
		})
	}
}

// TestFirstPresentSource checks that a list of source keys takes the first
// that has a value, skipping absent and blank ones.
func TestFirstPresentSource(t *testing.T) {
	d := load(t, "name: t\nformat: kv\nfields:\n  - {from: [hostname, dvchost, host], to: server.name}\n")
	for line, want := range map[string]string{
		"hostname=a dvchost=b":     "a",
		`hostname="" dvchost=b`:    "b",
		"host=c dvchost=b":         "b",
		"host=c":                   "c",
		"other=1 hostname=a host=": "a",
	} {
		if got := parseOne(t, d, line).String("server.name"); got != want {
			t.Errorf("%q: server.name %q, want %q", line, got, want)
		}
	}
}

// TestSetIsDefault checks that set: gives a value that a field mapped
// from the record replaces, and that the syslog header fills host.name
// only where the record had none.
func TestSetIsDefault(t *testing.T) {
	d := load(t, `name: t
format: kv
syslog: true
set: {event.outcome: unknown, event.category: [network], event.severity: 3, acme.flag: true, acme.ratio: 0.5}
fields:
  - {from: result, to: event.outcome}
  - {from: host, to: host.name}
`)
	ev := parseOne(t, d, "<14>Mar  1 11:00:00 relay01 app: result=success host=fw01")
	want := map[string]any{
		"event.outcome":  "success",
		"event.category": []string{"network"},
		"event.severity": int64(3),
		"acme.flag":      true,
		"acme.ratio":     0.5,
		"host.name":      "fw01",
		"host.hostname":  "relay01",
		"@timestamp":     time.Date(2024, 3, 1, 11, 0, 0, 0, time.UTC),
	}
	for f, w := range want {
		if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
	if got := parseOne(t, d, "a=1").String("event.outcome"); got != "unknown" {
		t.Errorf("without a result: event.outcome %q, want the set value", got)
	}
}

// TestCopyUnmapped checks the names unmapped keys are kept under.
func TestCopyUnmapped(t *testing.T) {
	d := load(t, "name: t\nformat: kv\ncopy_unmapped_to: acme.\nfields:\n  - {from: src, to: source.ip, type: ip}\n")
	ev := parseOne(t, d, `src=192.0.2.1 rule.id=7 weird:key=x src=192.0.2.2 empty=""`)
	want := map[string]any{"source.ip": "192.0.2.1", "acme.rule.id": "7", "acme.weird_key": "x"}
	for f, w := range want {
		if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
	if ev.Len() != len(want) {
		t.Errorf("fields %v, want exactly %v", ev.Keys(), want)
	}
}

// TestConcurrentParse parses from several goroutines with one parser,
// as the pipeline's workers do (run with -race).
func TestConcurrentParse(t *testing.T) {
	d := load(t, "name: t\nformat: csv\nheader: true\nfields:\n  - {from: ip, to: source.ip, type: ip}\n")
	done := make(chan string)
	for g := 0; g < 4; g++ {
		go func() {
			header := fmt.Sprintf("ip,n%d", g)
			for i := 0; i < 200; i++ {
				line := fmt.Sprintf("192.0.2.%d,%d", g, i)
				evs, err := d.Parser.Parse(datasetRecord(line, header))
				if err != nil || len(evs) != 1 || evs[0].String("source.ip") != fmt.Sprintf("192.0.2.%d", g) {
					done <- fmt.Sprintf("goroutine %d record %d: %v %v", g, i, evs, err)
					return
				}
			}
			done <- ""
		}()
	}
	for g := 0; g < 4; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}
