package archive

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// referenceLines is the documented line rule, written the obvious way:
// split on '\n', drop one trailing '\r', skip empty lines, index = line
// number.
func referenceLines(obj []byte) []line {
	var out []line
	parts := bytes.Split(obj, []byte("\n"))
	if len(parts) > 0 && len(parts[len(parts)-1]) == 0 {
		parts = parts[:len(parts)-1] // the final newline ends a line, not starts one
	}
	for i, p := range parts {
		p = bytes.TrimSuffix(p, []byte("\r"))
		if len(p) > 0 {
			out = append(out, line{i, string(p)})
		}
	}
	return out
}

// FuzzRecordReader reads arbitrary objects both as lines and as envelopes.
// As lines, uncompressed input must give exactly the reference split; as
// envelopes, every line the fast decoder accepts must decode the same
// through encoding/json.
func FuzzRecordReader(f *testing.F) {
	f.Add([]byte("a\nb\r\n\nc"))
	f.Add([]byte("\r\n\r\r\n\n"))
	f.Add([]byte(`{"t":"2025-01-02T03:04:05Z","p":"h:1","l":"x","m":"a\nb"}` + "\n"))
	f.Add([]byte(`{"t":"2025-01-02T03:04:05.123456789Z","b":"AP8="}`))
	f.Add([]byte(`{"t":"2025-01-02T03:04:05Z","m":"\ud83d\ude00 \u00e9 \/"}`))
	f.Add([]byte(`{"m":"x","t":"2025-01-02T03:04:05Z","m":"y"}`))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Add([]byte{0x28, 0xb5, 0x2f, 0xfd, 0x00})
	// a frame table, then a frame (frames.go)
	f.Add(append(appendFrameTable(nil, []Frame{{Length: 5, Count: 1}}), 0x28, 0xb5, 0x2f, 0xfd, 0x00))
	f.Add([]byte{0x5e, 0x2a, 0x4d, 0x18, 0x02, 0x00, 0x00, 0x00, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, obj []byte) {
		// As lines.
		rr, err := NewRecordReader(bytes.NewReader(obj), FormatLines, "fuzz", time.Time{})
		if err == nil {
			var got []line
			last := -1
			for rr.Next() {
				if rr.Index() <= last {
					t.Fatalf("index %d after %d", rr.Index(), last)
				}
				last = rr.Index()
				got = append(got, line{rr.Index(), string(rr.Record().Data)})
			}
			compressed := hasMagic(obj, gzipMagic) || hasMagic(obj, zstdMagic) || isSkippable(obj)
			if !compressed {
				if rr.Err() != nil {
					t.Fatalf("plain object: %v", rr.Err())
				}
				want := referenceLines(obj)
				if len(got) != len(want) {
					t.Fatalf("got %d records, want %d: %+v vs %+v", len(got), len(want), got, want)
				}
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("record %d = %+v, want %+v", i, got[i], want[i])
					}
				}
			}
			rr.Close()
		} else if !hasMagic(obj, gzipMagic) && !hasMagic(obj, zstdMagic) && !isSkippable(obj) {
			t.Fatalf("plain object refused: %v", err)
		}

		// As envelopes, through the reader: must not panic.
		if rr, err := NewRecordReader(bytes.NewReader(obj), FormatEnvelope, "fuzz", time.Time{}); err == nil {
			for rr.Next() {
				_ = rr.Record()
			}
			rr.Close()
		}

		// Each line through both decoders.
		for _, l := range referenceLines(obj) {
			checkDecoders(t, []byte(l.data))
		}
	})
}

// checkDecoders requires the fast decoder to agree with encoding/json on
// every line it accepts, and decode to fail exactly when encoding/json
// finds no valid envelope.
func checkDecoders(t *testing.T, lineBytes []byte) {
	t.Helper()
	var fast envelopeDecoder
	var ff rawFields
	fastErr := fast.decodeFast(lineBytes, &ff)
	if fastErr != nil && !errors.Is(fastErr, errNotFast) {
		t.Fatalf("fast decoder returned %v, want only errNotFast", fastErr)
	}
	var slowD envelopeDecoder
	var sf rawFields
	slowErr := decodeSlow(lineBytes, &sf)
	if fastErr == nil {
		if slowErr != nil {
			t.Fatalf("fast path accepted %q, encoding/json refuses it: %v", lineBytes, slowErr)
		}
		if !sameFields(&ff, &sf) {
			t.Fatalf("decoders disagree on %q:\nfast %+v\nslow %+v", lineBytes, ff, sf)
		}
	}
	var full envelopeDecoder
	e, err := full.decode(lineBytes)
	var want envelope
	var wantErr error
	if slowErr != nil {
		wantErr = slowErr
	} else {
		want, wantErr = slowD.finish(&sf)
	}
	if (err == nil) != (wantErr == nil) {
		t.Fatalf("decode(%q) err = %v, encoding/json path err = %v", lineBytes, err, wantErr)
	}
	if err == nil && (!bytes.Equal(e.data, want.data) || !bytes.Equal(e.peer, want.peer) ||
		!bytes.Equal(e.listener, want.listener) || !e.received.Equal(want.received)) {
		t.Fatalf("decode(%q) = %+v, encoding/json path %+v", lineBytes, e, want)
	}
}

func sameFields(a, b *rawFields) bool {
	return a.hasT == b.hasT && a.hasP == b.hasP && a.hasL == b.hasL && a.hasM == b.hasM && a.hasB == b.hasB &&
		bytes.Equal(a.t, b.t) && bytes.Equal(a.p, b.p) && bytes.Equal(a.l, b.l) &&
		bytes.Equal(a.m, b.m) && bytes.Equal(a.b, b.b)
}

// FuzzEnvelope writes arbitrary records and reads them back: the bytes
// must round-trip exactly, the line must be one line of valid JSON, and
// encoding/json must read the same record.
func FuzzEnvelope(f *testing.F) {
	f.Add([]byte("plain"), "192.0.2.1:514", "syslog-udp", int64(1735787045123456789))
	f.Add([]byte{0xff, 0x00, '\n', '"'}, "", "", int64(0))
	f.Add([]byte("\x01\x02\x03\x04"), "p\xff", "l\n", int64(-1))
	f.Add([]byte("日本語 \u2028 \\ \" \t"), "[::1]:514", "http", int64(253402300799999999))
	f.Fuzz(func(t *testing.T, data []byte, peer, listener string, ns int64) {
		at := time.Unix(0, ns).UTC()
		// RFC 3339 has four-digit years; Put only sees current times.
		if at.Year() < 0 || at.Year() > 9999 {
			return
		}
		l := appendEnvelope(nil, at, peer, listener, data)
		if bytes.IndexByte(l, '\n') != len(l)-1 {
			t.Fatalf("envelope is not exactly one line: %q", l)
		}
		l = l[:len(l)-1]
		if !json.Valid(l) {
			t.Fatalf("envelope is not valid JSON: %q", l)
		}
		if len(l) > 2*len(data)+6*(len(peer)+len(listener))+128 {
			t.Fatalf("envelope of %d bytes for a %d-byte record", len(l), len(data))
		}
		var d envelopeDecoder
		e, err := d.decode(l)
		if err != nil {
			t.Fatalf("decode %q: %v", l, err)
		}
		if !bytes.Equal(e.data, data) {
			t.Fatalf("data %q came back as %q", data, e.data)
		}
		// the envelope keeps milliseconds (see envelopeTime)
		if want := at.Truncate(time.Millisecond); !e.received.Equal(want) {
			t.Fatalf("time %v came back as %v, want %v", at, e.received, want)
		}
		if want := strings.ToValidUTF8(peer, "\uFFFD"); string(e.peer) != want {
			t.Fatalf("peer %q came back as %q", peer, e.peer)
		}
		if want := strings.ToValidUTF8(listener, "\uFFFD"); string(e.listener) != want {
			t.Fatalf("listener %q came back as %q", listener, e.listener)
		}
		if utf8.Valid(data) && len(data) > 0 && bytes.Contains(l, []byte(`"b":`)) && !hasManyControls(data) {
			t.Fatalf("text record %q went to base64", data)
		}
		checkDecoders(t, l)
	})
}

// hasManyControls reports whether escaping data more than doubles it.
func hasManyControls(data []byte) bool {
	n := 0
	for _, c := range data {
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t':
			n += 2
		case c < 0x20:
			n += 6
		default:
			n++
		}
	}
	return n > 2*len(data)
}
