package leef

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		line string
		want Message
	}{
		{
			name: "LEEF 1.0 tabs",
			line: "LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5\tcat=anomaly\tmsg=this is a message",
			want: Message{Version: "1.0", Vendor: "Microsoft", Product: "MSExchange", ProductVersion: "4.0 SP1", EventID: "15345", Delimiter: "\t",
				Attributes: []Attribute{{"src", "192.0.2.0"}, {"dst", "172.50.123.1"}, {"sev", "5"}, {"cat", "anomaly"}, {"msg", "this is a message"}}},
		},
		{
			name: "LEEF 2.0 caret delimiter",
			line: "LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21",
			want: Message{Version: "2.0", Vendor: "Lancope", Product: "StealthWatch", ProductVersion: "1.0", EventID: "41", Delimiter: "^",
				Attributes: []Attribute{{"src", "10.0.1.8"}, {"dst", "10.0.0.5"}, {"sev", "5"}, {"srcPort", "81"}, {"dstPort", "21"}}},
		},
		{
			name: "LEEF 2.0 hex delimiter",
			line: "LEEF:2.0|Vendor|Product|1|E1|0x7c|src=10.0.0.1|usrName=alice",
			want: Message{Version: "2.0", Vendor: "Vendor", Product: "Product", ProductVersion: "1", EventID: "E1", Delimiter: "|",
				Attributes: []Attribute{{"src", "10.0.0.1"}, {"usrName", "alice"}}},
		},
		{
			name: "LEEF 2.0 xHH delimiter",
			line: "LEEF:2.0|V|P|1|E|x5E|a=1^b=2",
			want: Message{Version: "2.0", Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: "^",
				Attributes: []Attribute{{"a", "1"}, {"b", "2"}}},
		},
		{
			name: "LEEF 2.0 without delimiter field",
			line: "LEEF:2.0|V|P|1|E|a=1\tb=x=y",
			want: Message{Version: "2.0", Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: "\t",
				Attributes: []Attribute{{"a", "1"}, {"b", "x=y"}}},
		},
		{
			name: "escaped pipe in header, rsyslog #011 tabs",
			line: `LEEF:1.0|V\|Inc|P|1|E|a=1#011b=two words`,
			want: Message{Version: "1.0", Vendor: "V|Inc", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: "#011",
				Attributes: []Attribute{{"a", "1"}, {"b", "two words"}}},
		},
		{
			name: "tabs turned into spaces",
			line: "LEEF:1.0|V|P|1|E|src=10.0.0.1 msg=two words dst=10.0.0.2",
			want: Message{Version: "1.0", Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: "\t",
				Attributes: []Attribute{{"src", "10.0.0.1"}, {"msg", "two words"}, {"dst", "10.0.0.2"}}},
		},
		{
			name: "no attributes",
			line: "LEEF:1.0|V|P|1|E|",
			want: Message{Version: "1.0", Vendor: "V", Product: "P", ProductVersion: "1", EventID: "E", Delimiter: "\t"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.line))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	for _, line := range []string{"", "CEF:0|a|b|c|d|e|f|", "LEEF:1.0|a|b", "LEEF:x|a|b|c|d|"} {
		if _, err := Parse([]byte(line)); err == nil {
			t.Errorf("Parse(%q): no error", line)
		}
	}
	if _, err := Parse([]byte("hello")); !errors.Is(err, ErrNotLEEF) {
		t.Errorf("err = %v, want ErrNotLEEF", err)
	}
}

func TestParseDevTime(t *testing.T) {
	jst := time.FixedZone("JST", 9*3600)
	tests := []struct {
		value, format string
		loc           *time.Location
		want          time.Time
		zoned         bool
	}{
		{"1709251200000", "", nil, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"Mar 01 2024 09:00:00.123 UTC", "", jst, time.Date(2024, 3, 1, 9, 0, 0, 123e6, time.UTC), true},
		{"Mar 01 2024 09:00:00", "", jst, time.Date(2024, 3, 1, 9, 0, 0, 0, jst), false},
		{"Mar 01 2024 09:00:00.123 EST", "MMM dd yyyy HH:mm:ss.SSS z", jst, time.Date(2024, 3, 1, 9, 0, 0, 123e6, jst), false},
		{"2024-03-01T09:00:00.5+0900", "yyyy-MM-dd'T'HH:mm:ss.SSSZ", nil, time.Date(2024, 3, 1, 0, 0, 0, 5e8, time.UTC), true},
		{"01/03/2024 9:00:00 PM", "dd/MM/yyyy h:mm:ss a", nil, time.Date(2024, 3, 1, 21, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		got, zoned, err := ParseDevTime(tt.value, tt.format, tt.loc)
		if err != nil || !got.Equal(tt.want) || zoned != tt.zoned {
			t.Errorf("ParseDevTime(%q, %q) = %v, %v, %v; want %v, %v", tt.value, tt.format, got, zoned, err, tt.want, tt.zoned)
		}
	}
	if _, _, err := ParseDevTime("x", "yyyy GGG", nil); err == nil {
		t.Error("unsupported pattern letter: no error")
	}
}

func FuzzLEEF(f *testing.F) {
	for _, s := range []string{
		"LEEF:1.0|Microsoft|MSExchange|4.0 SP1|15345|src=192.0.2.0\tdst=172.50.123.1\tsev=5",
		"LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5",
		"LEEF:2.0|V|P|1|E|0x7c|a=1|b=2", "LEEF:2.0|V|P|1|E|xZZ|a=1", `LEEF:1.0|a\|b|c|d|e|x=1#011y=2`,
		"LEEF:1.0|V|P|1|E|a=b c d= =e",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := Parse(line)
		if err != nil {
			return
		}
		if !strings.HasPrefix(string(line), "LEEF:") || m.Delimiter == "" {
			t.Fatalf("bad parse of %q: %+v", line, m)
		}
		for _, a := range m.Attributes {
			if a.Key == "" {
				t.Fatalf("empty key from %q", line)
			}
		}
		if v, ok := m.Get("devTime"); ok {
			f, _ := m.Get("devTimeFormat")
			_, _, _ = ParseDevTime(v, f, nil)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	line := []byte("LEEF:2.0|Lancope|StealthWatch|1.0|41|^|src=10.0.1.8^dst=10.0.0.5^sev=5^srcPort=81^dstPort=21^proto=TCP^usrName=alice^devTime=Mar 01 2024 09:00:00.123 UTC^cat=policy")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(line); err != nil {
			b.Fatal(err)
		}
	}
}
