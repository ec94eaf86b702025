package archive

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEnvelopeEncoding(t *testing.T) {
	at := time.Date(2025, 1, 2, 3, 4, 5, 600_000_000, time.FixedZone("x", 3600))
	cases := []struct {
		name string
		data []byte
		peer string
		want string
	}{
		{"text", []byte("hello"), "192.0.2.1:514",
			`{"t":"2025-01-02T02:04:05.600Z","p":"192.0.2.1:514","l":"syslog-udp","m":"hello"}`},
		{"escapes", []byte("a\"b\\c\nd\te\x00"), "",
			`{"t":"2025-01-02T02:04:05.600Z","l":"syslog-udp","m":"a\"b\\c\nd\te\u0000"}`},
		{"short json record stays text", []byte(`{"a":"b"}`), "",
			`{"t":"2025-01-02T02:04:05.600Z","l":"syslog-udp","m":"{\"a\":\"b\"}"}`},
		{"invalid utf-8 goes to base64", []byte{0xff, 'a'}, "",
			`{"t":"2025-01-02T02:04:05.600Z","l":"syslog-udp","b":"/2E="}`},
		{"control-heavy goes to base64", []byte("\x01\x02\x03"), "",
			`{"t":"2025-01-02T02:04:05.600Z","l":"syslog-udp","b":"AQID"}`},
		{"empty", []byte{}, "",
			`{"t":"2025-01-02T02:04:05.600Z","l":"syslog-udp","m":""}`},
		{"html characters stay", []byte("<a&b>"), "",
			`{"t":"2025-01-02T02:04:05.600Z","l":"syslog-udp","m":"<a&b>"}`},
	}
	for _, c := range cases {
		got := string(appendEnvelope(nil, at, c.peer, "syslog-udp", c.data))
		if got != c.want+"\n" {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
		// Whatever we write is valid JSON.
		if !json.Valid([]byte(got)) {
			t.Errorf("%s: not valid JSON: %s", c.name, got)
		}
	}
}

func TestEnvelopeDecodeSpellings(t *testing.T) {
	want := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name, line, data, peer, listener string
	}{
		{"canonical", `{"t":"2025-01-02T03:04:05Z","p":"h:1","l":"http","m":"x"}`, "x", "h:1", "http"},
		{"other order", `{"m":"x","l":"http","t":"2025-01-02T03:04:05Z"}`, "x", "", "http"},
		{"whitespace", ` { "t" : "2025-01-02T03:04:05Z" , "m" : "x" } `, "x", "", ""},
		{"unknown fields ignored", `{"t":"2025-01-02T03:04:05Z","v":2,"extra":{"a":[1]},"m":"x"}`, "x", "", ""},
		{"offset time", `{"t":"2025-01-02T12:04:05+09:00","m":"x"}`, "x", "", ""},
		{"unicode escapes", `{"t":"2025-01-02T03:04:05Z","m":"\u65e5\u00e9\/"}`, "日é/", "", ""},
		{"surrogate pair", `{"t":"2025-01-02T03:04:05Z","m":"\ud83d\udee1"}`, "🛡", "", ""},
		{"base64", `{"t":"2025-01-02T03:04:05Z","b":"AP8="}`, "\x00\xff", "", ""},
		{"escaped key", `{"\u0074":"2025-01-02T03:04:05Z","m":"x"}`, "x", "", ""},
		{"all escapes", `{"t":"2025-01-02T03:04:05Z","m":"\"\\\/\b\f\n\r\t"}`, "\"\\/\b\f\n\r\t", "", ""},
		{"raw utf-8", `{"t":"2025-01-02T03:04:05Z","m":"日本"}`, "日本", "", ""},
		{"escape then utf-8", `{"t":"2025-01-02T03:04:05Z","m":"\n日本"}`, "\n日本", "", ""},
	}
	for _, c := range cases {
		var d envelopeDecoder
		e, err := d.decode([]byte(c.line))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if string(e.data) != c.data || string(e.peer) != c.peer || string(e.listener) != c.listener || !e.received.Equal(want) {
			t.Errorf("%s: got data %q peer %q listener %q at %v", c.name, e.data, e.peer, e.listener, e.received)
		}
	}
}

func TestEnvelopeDecodeErrors(t *testing.T) {
	cases := []struct{ line, want string }{
		{`{"m":"x"}`, `no "t"`},
		{`{"t":"2025-01-02T03:04:05Z"}`, `neither "m" nor "b"`},
		{`{"t":"2025-01-02T03:04:05Z","m":"x","b":"eA=="}`, `both "m" and "b"`},
		{`{"t":"yesterday","m":"x"}`, `"t"`},
		{`{"t":"2025-01-02T03:04:05Z","b":"***"}`, `"b"`},
		{`{"t":"2025-01-02T03:04:05Z","m":1}`, "not a JSON object of strings"},
		{`["t","m"]`, "not a JSON object of strings"},
		{`{"t":"2025-01-02T03:04:05Z","m":"x"`, "not a JSON object of strings"},
		{`{"t":"2025-01-02T03:04:05Z","m":"x"} trailing`, "not a JSON object of strings"},
		{"{\"t\":\"2025-01-02T03:04:05Z\",\"m\":\"raw\ttab\"}", "not a JSON object of strings"},
		{`not json`, "not a JSON object of strings"},
	}
	for _, c := range cases {
		var d envelopeDecoder
		_, err := d.decode([]byte(c.line))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("decode(%s) error = %v, want one containing %q", c.line, err, c.want)
		}
	}
}

// TestEnvelopeFastPathTaken makes sure the lines Put writes do not fall
// back to encoding/json (the benchmarks depend on it).
func TestEnvelopeFastPathTaken(t *testing.T) {
	for _, data := range [][]byte{[]byte("plain"), []byte("a\"b\\c\n"), {0xff}, []byte("日本 \u2028")} {
		line := appendEnvelope(nil, time.Now(), "192.0.2.1:514", "syslog-udp", data)
		var d envelopeDecoder
		var f rawFields
		if err := d.decodeFast(bytes.TrimSuffix(line, []byte("\n")), &f); err != nil {
			t.Errorf("fast path refused %s: %v", line, err)
		}
	}
}

func TestEnvelopeValuesDoNotAlias(t *testing.T) {
	// Several escaped values in one line: each must keep its own bytes
	// even though they share the decoder's scratch space.
	line := `{"t":"2025-01-02T03:04:05Z","p":"p\"1","l":"l\"2","m":"m\"3"}`
	var d envelopeDecoder
	e, err := d.decode([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if string(e.peer) != `p"1` || string(e.listener) != `l"2` || string(e.data) != `m"3` {
		t.Errorf("got peer %q listener %q data %q", e.peer, e.listener, e.data)
	}
}

// TestIndexScans checks the word-at-a-time scans against byte-by-byte
// ones for every byte value at every position of a two-word buffer, and
// with a second special byte after the first (borrows in the word trick).
func TestIndexScans(t *testing.T) {
	naive := func(s []byte, special func(byte) bool) int {
		for i, c := range s {
			if special(c) {
				return i
			}
		}
		return -1
	}
	isEscape := func(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }
	isSpecial := func(c byte) bool { return isEscape(c) || c >= 0x80 }
	for n := 0; n <= 17; n++ {
		for pos := 0; pos < n; pos++ {
			for v := 0; v < 256; v++ {
				for _, second := range []bool{false, true} {
					buf := bytes.Repeat([]byte{'a'}, n)
					buf[pos] = byte(v)
					if second && pos+1 < n {
						buf[pos+1] = 0x00
					}
					if got, want := indexEscape(buf), naive(buf, isEscape); got != want {
						t.Fatalf("indexEscape(%q) = %d, want %d", buf, got, want)
					}
					if got, want := indexSpecial(buf), naive(buf, isSpecial); got != want {
						t.Fatalf("indexSpecial(%q) = %d, want %d", buf, got, want)
					}
				}
			}
		}
	}
}
