package cef

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
			name: "spec example with escapes",
			line: `CEF:0|Security|threatmanager|1.0|100|detected a \| in message|10|src=10.0.0.1 act=blocked a \= dst=1.1.1.1`,
			want: Message{Version: 0, DeviceVendor: "Security", DeviceProduct: "threatmanager", DeviceVersion: "1.0",
				SignatureID: "100", Name: "detected a | in message", Severity: "10",
				Extensions: []Extension{{"src", "10.0.0.1"}, {"act", "blocked a ="}, {"dst", "1.1.1.1"}}},
		},
		{
			name: "header backslash, values with spaces, empty value, newline escape",
			line: `CEF:1|Vendor\\Inc|Prod|2|sig|Name|High|msg=line one\nline two cs3= cs3Label=Fragmentation Bits filePath=C:\\Users\\x.exe`,
			want: Message{Version: 1, DeviceVendor: `Vendor\Inc`, DeviceProduct: "Prod", DeviceVersion: "2",
				SignatureID: "sig", Name: "Name", Severity: "High",
				Extensions: []Extension{{"msg", "line one\nline two"}, {"cs3", ""}, {"cs3Label", "Fragmentation Bits"}, {"filePath", `C:\Users\x.exe`}}},
		},
		{
			name: "pipes in extension values",
			line: `CEF:0|Trend Micro|Deep Security Agent|1.2.3|4000000|Eicar_test_file|6|cs6=ContainerImageName | ContainerName | ContainerID cs6Label=Container`,
			want: Message{DeviceVendor: "Trend Micro", DeviceProduct: "Deep Security Agent", DeviceVersion: "1.2.3",
				SignatureID: "4000000", Name: "Eicar_test_file", Severity: "6",
				Extensions: []Extension{{"cs6", "ContainerImageName | ContainerName | ContainerID"}, {"cs6Label", "Container"}}},
		},
		{
			name: "no extension and no trailing pipe",
			line: `CEF:0|V|P|1|sig|Name|5`,
			want: Message{DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1", SignatureID: "sig", Name: "Name", Severity: "5"},
		},
		{
			name: "unescaped equals inside a value stays in the value",
			line: `CEF:0|V|P|1|sig|Name|5|request=http://x/?a=b&c=d suser=bob`,
			want: Message{DeviceVendor: "V", DeviceProduct: "P", DeviceVersion: "1", SignatureID: "sig", Name: "Name", Severity: "5",
				Extensions: []Extension{{"request", "http://x/?a=b&c=d"}, {"suser", "bob"}}},
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
	for _, line := range []string{"", "hello", "CEF:0|only|three", "CEF:x|a|b|c|d|e|f|"} {
		_, err := Parse([]byte(line))
		if err == nil {
			t.Errorf("Parse(%q): no error", line)
		}
	}
	if _, err := Parse([]byte("LEEF:1.0|a|b|c|d|")); !errors.Is(err, ErrNotCEF) {
		t.Errorf("LEEF line: err = %v, want ErrNotCEF", err)
	}
}

func TestSeverityLevel(t *testing.T) {
	for sev, want := range map[string]int{"0": 0, "7": 7, "12": 10, "Low": 3, "medium": 6, "High": 8, "Very-High": 10} {
		m := Message{Severity: sev}
		got, ok := m.SeverityLevel()
		if !ok || got != want {
			t.Errorf("SeverityLevel(%q) = %d, %v; want %d", sev, got, ok, want)
		}
	}
	if _, ok := (&Message{Severity: "Unknown"}).SeverityLevel(); ok {
		t.Error("Unknown severity must not map")
	}
}

func TestFullName(t *testing.T) {
	for short, full := range map[string]string{"src": "sourceAddress", "dpt": "destinationPort", "cs1": "deviceCustomString1",
		"cs1Label": "deviceCustomString1Label", "cn1": "deviceCustomNumber1", "sourceAddress": "sourceAddress", "vendorKey": "vendorKey"} {
		if got := FullName(short); got != full {
			t.Errorf("FullName(%q) = %q, want %q", short, got, full)
		}
	}
	if TypeOf("destinationPort") != TypeInteger || TypeOf("sourceAddress") != TypeIP || TypeOf("x") != TypeString {
		t.Error("TypeOf gives wrong types")
	}
}

func TestParseTime(t *testing.T) {
	ref := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	jst := time.FixedZone("JST", 9*3600)
	tests := []struct {
		in    string
		loc   *time.Location
		want  time.Time
		zoned bool
	}{
		{"1709251200000", nil, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), true},
		{"Feb 29 2024 23:00:00", jst, time.Date(2024, 2, 29, 23, 0, 0, 0, jst), false},
		{"Feb 29 2024 23:00:00.250 UTC", jst, time.Date(2024, 2, 29, 23, 0, 0, 250e6, time.UTC), true},
		{"Feb 29 2024 23:00:00 GMT+09:00", nil, time.Date(2024, 2, 29, 14, 0, 0, 0, time.UTC), true},
		{"Feb 29 2024 23:00:00 CST", nil, time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC), false},
		{"Feb 29 23:00:00", nil, time.Date(2024, 2, 29, 23, 0, 0, 0, time.UTC), false},
		{"Dec 31 23:00:00", nil, time.Date(2023, 12, 31, 23, 0, 0, 0, time.UTC), false},
		{"2024-02-29T23:00:00+09:00", nil, time.Date(2024, 2, 29, 14, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		got, zoned, err := ParseTime(tt.in, ref, tt.loc)
		if err != nil || !got.Equal(tt.want) || zoned != tt.zoned {
			t.Errorf("ParseTime(%q) = %v, %v, %v; want %v, %v", tt.in, got, zoned, err, tt.want, tt.zoned)
		}
	}
	for _, bad := range []string{"", "yesterday", "Foo 12 2024 10:00:00", "Feb 30"} {
		if _, _, err := ParseTime(bad, ref, nil); err == nil {
			t.Errorf("ParseTime(%q): no error", bad)
		}
	}
}

func FuzzCEF(f *testing.F) {
	for _, s := range []string{
		`CEF:0|Security|threatmanager|1.0|100|worm successfully stopped|10|src=10.0.0.1 dst=2.1.2.2 spt=1232`,
		`CEF:0|a\|b|c\\d|1|2|3|Low|k=v\=w x=\\ y=a b c z=`,
		`CEF:0|V|P|1|s|N|5`, `CEF:0|||||||`, `CEF:0|V|P|1|s|N|5| =x a= =b c\`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := Parse(line)
		if err != nil {
			if m.Extensions != nil {
				t.Fatalf("error with extensions: %v", err)
			}
			return
		}
		if !strings.HasPrefix(string(line), "CEF:") {
			t.Fatalf("parsed a line without CEF: prefix: %q", line)
		}
		for _, e := range m.Extensions {
			if e.Key == "" || strings.ContainsAny(e.Key, " =") {
				t.Fatalf("bad key %q from %q", e.Key, line)
			}
		}
		_, _ = m.SeverityLevel()
	})
}

func BenchmarkParse(b *testing.B) {
	line := []byte(`CEF:0|Trend Micro|Deep Security Agent|10.0.1.1234|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset dmac=00:50:56:00:00:01 smac=00:50:56:00:00:02 TrendMicroDsFrameType=IP src=192.0.2.10 dst=10.0.0.5 in=60 cs3= cs3Label=Fragmentation Bits proto=TCP spt=44521 dpt=22 cs2=0x00 ACK cs2Label=TCP Flags cnt=1 TrendMicroDsPacketData=AAAA`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(line); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanAgrees checks the IndexByte scans of the header and the
// extension against the byte-by-byte reading they replace (below), which
// is the specification: same fields, keys and values for any input.
func FuzzScanAgrees(f *testing.F) {
	for _, s := range []string{
		`a\|b|c\\d|rest`, `no bar \ at all\`, `|`, `\|`, `x\`,
		`k=v\=w x=\\ y=a b c z=`, ` =x a= =b c\`, `a=1 b=x\\=y c=\=d e=f\`,
		`request=https://h/p?id\=1 OR 1\=1 act=block`, `k==v a=b=c d= e`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		gf, gr, gok := cutHeaderField(s)
		wf, wr, wok := cutHeaderFieldRef(s)
		if gf != wf || gr != wr || gok != wok {
			t.Fatalf("cutHeaderField(%q) = %q %q %v, want %q %q %v", s, gf, gr, gok, wf, wr, wok)
		}
		got := parseExtensions(s, nil)
		want := parseExtensionsRef(s, nil)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("parseExtensions(%q) =\n%q\nwant\n%q", s, got, want)
		}
	})
}

// cutHeaderFieldRef reads a header field byte by byte.
func cutHeaderFieldRef(s string) (field, rest string, found bool) {
	escaped := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			escaped = true
			i++
		case '|':
			field = s[:i]
			if escaped {
				field = unescapeHeader(field)
			}
			return field, s[i+1:], true
		}
	}
	if escaped {
		return unescapeHeader(s), "", false
	}
	return s, "", false
}

// parseExtensionsRef reads the extension byte by byte.
func parseExtensionsRef(s string, dst []Extension) []Extension {
	key := ""
	valStart := -1
	escaped := false
	for j := 0; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '=':
			ks := keyStartBefore(s, j)
			if ks < 0 || (valStart >= 0 && ks <= valStart) {
				continue
			}
			if valStart >= 0 {
				dst = append(dst, Extension{Key: key, Value: value(s[valStart:ks-1], escaped)})
			} else if dst == nil {
				dst = make([]Extension, 0, strings.Count(s[j:], "="))
			}
			key, valStart, escaped = s[ks:j], j+1, false
		}
	}
	if valStart < 0 {
		return dst
	}
	if valStart > len(s) {
		valStart = len(s)
	}
	return append(dst, Extension{Key: key, Value: value(s[valStart:], escaped)})
}
