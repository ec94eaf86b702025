package kv

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want []Pair
	}{
		{"fortigate", `date=2024-01-01 time=10:00:00 devname="FG-01" srcip=10.0.0.1 msg="a quoted value with \"escapes\""`,
			[]Pair{{"date", "2024-01-01"}, {"time", "10:00:00"}, {"devname", "FG-01"}, {"srcip", "10.0.0.1"}, {"msg", `a quoted value with "escapes"`}}},
		{"single quotes and empty values", `a='x y' b= c="" d='it\'s'`,
			[]Pair{{"a", "x y"}, {"b", ""}, {"c", ""}, {"d", "it's"}}},
		{"junk between pairs", `2026-04-03T00:31:09+00:00 192.168.2.1 x=1 | (y=2) "z" w=3|`,
			[]Pair{{"x", "1"}, {"w", "3|"}}},
		{"key charset", `a.b=1 c:d=2 e-f_g=3`, []Pair{{"a.b", "1"}, {"c:d", "2"}, {"e-f_g", "3"}}},
		{"value with equals", `url=/a?b=c d=1`, []Pair{{"url", "/a?b=c"}, {"d", "1"}}},
		{"adjacent after quote", `a="x"b=2`, []Pair{{"a", "x"}, {"b", "2"}}},
		{"unterminated quote", `a="x y`, []Pair{{"a", "x y"}}},
		{"other backslashes kept", `p="C:\temp\\x"`, []Pair{{"p", `C:\temp\x`}}},
		{"tabs", "a=1\tb=2", []Pair{{"a", "1"}, {"b", "2"}}},
		{"no pairs", "just words", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse([]byte(tt.line))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %q\nwant %q", tt.line, got, tt.want)
			}
		})
	}
}

func TestAppendRoundTrip(t *testing.T) {
	pairs := []Pair{{"a", "plain"}, {"b", ""}, {"c", `with "quotes" and \ backslash`}, {"d", "x=y"}, {"e", "tab\there"}}
	line := Append(nil, pairs)
	if got := Parse(line); !reflect.DeepEqual(got, pairs) {
		t.Errorf("Parse(Append(pairs)) = %q from %q, want %q", got, line, pairs)
	}
}

func TestValidKey(t *testing.T) {
	for k, want := range map[string]bool{"srcip": true, "a.b:c-d_e": true, "": false, "a b": false, "a=b": false} {
		if ValidKey(k) != want {
			t.Errorf("ValidKey(%q) = %v", k, !want)
		}
	}
}

func FuzzKV(f *testing.F) {
	for _, s := range []string{
		`date=2024-01-01 time=10:00:00 devname="FG-01" msg="a \"b\""`,
		`a='x' b= c="" junk "q" d=1|`, `a="unterminated\`, `=x ==y k==v`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		pairs := Parse(line)
		for _, p := range pairs {
			if !ValidKey(p.Key) {
				t.Fatalf("invalid key %q from %q", p.Key, line)
			}
		}
		// Round trip: what Append writes, Parse reads back the same.
		again := Parse(Append(nil, pairs))
		if len(pairs) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, pairs) {
			t.Fatalf("round trip of %q:\n first %q\nsecond %q", line, pairs, again)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	line := `date=2024-01-01 time=10:00:00 devname="FG-01" devid="FGT60E0000000001" logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" srcip=10.0.0.1 srcport=51234 srcintf="port1" dstip=203.0.113.5 dstport=443 dstintf="wan1" proto=6 action="accept" policyid=12 service="HTTPS" sentbyte=1204 rcvdbyte=5311 msg="a quoted value with \"escapes\""`
	buf := make([]Pair, 0, 32)
	b.ReportAllocs()
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		buf = AppendString(buf[:0], line)
	}
}
