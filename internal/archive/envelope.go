package archive

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// The envelope: each line of an object mamori writes is one JSON object
//
//	{"t":"<receive time, RFC 3339, UTC, ns>","p":"<peer>","l":"<listener>","m":"<record>"}
//
// "p" and "l" are left out when empty. The record travels in "m" as a JSON
// string when it is valid UTF-8 and escaping at most doubles its length;
// otherwise in "b" as standard base64 with padding. JSON strings cannot
// carry invalid UTF-8, and "b" makes every byte string round-trip
// exactly. Readers accept the fields in any order, ignore unknown ones (a
// later version may add some), and require "t" and exactly one of "m" and
// "b". docs/archive.md is the reference.

// envelopeTime is the receive time's format: RFC 3339 in UTC with
// milliseconds. Finer digits only add entropy that zstd cannot remove (8 %
// of an object's size, measured on syslog over TCP).
const envelopeTime = "2006-01-02T15:04:05.000Z07:00"

// envelopeEncoder writes envelope lines for one batch: the listener's
// field is quoted once per batch and the peer's once per change of peer.
type envelopeEncoder struct {
	listener []byte // `,"l":"..."`, or nothing when the listener is ""
	peer     string
	peerJSON []byte // `,"p":"..."` for peer, or nothing when it is ""
}

func newEnvelopeEncoder(listener string) *envelopeEncoder {
	return &envelopeEncoder{listener: labelField(nil, "l", listener)}
}

// labelField appends `,"name":"value"`, or nothing for an empty value.
// Labels are text: invalid UTF-8 in them becomes U+FFFD.
func labelField(dst []byte, name, value string) []byte {
	if value == "" {
		return dst
	}
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return appendQuoted(dst, []byte(strings.ToValidUTF8(value, "\uFFFD")))
}

// append appends one envelope line, newline included.
func (e *envelopeEncoder) append(dst []byte, received time.Time, peer string, data []byte) []byte {
	dst = append(dst, `{"t":"`...)
	dst = received.UTC().AppendFormat(dst, envelopeTime)
	dst = append(dst, '"')
	if peer != e.peer {
		e.peer = peer
		e.peerJSON = labelField(e.peerJSON[:0], "p", peer)
	}
	dst = append(dst, e.peerJSON...)
	dst = append(dst, e.listener...)
	if utf8.Valid(data) {
		start := len(dst)
		dst = append(dst, `,"m":`...)
		dst = appendQuoted(dst, data)
		// Text stays readable (and greppable after zstd -dc) in "m". Only
		// records that escaping more than doubles, which takes mostly
		// control bytes (six bytes each as \u00XX), go to base64: so no
		// line is longer than twice its record plus the other fields.
		if len(dst)-start-len(`,"m":""`) <= 2*len(data) {
			return append(dst, "}\n"...)
		}
		dst = dst[:start]
	}
	dst = append(dst, `,"b":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, data)
	return append(dst, "\"}\n"...)
}

// appendEnvelope appends one envelope line, newline included.
func appendEnvelope(dst []byte, received time.Time, peer, listener string, data []byte) []byte {
	return newEnvelopeEncoder(listener).append(dst, received, peer, data)
}

const hexDigits = "0123456789abcdef"

// appendQuoted appends s, which must be valid UTF-8, as a JSON string. Only
// what JSON requires is escaped: the quote, the backslash and bytes below
// 0x20.
func appendQuoted(dst, s []byte) []byte {
	dst = append(dst, '"')
	for {
		i := indexEscape(s)
		if i < 0 {
			dst = append(dst, s...)
			return append(dst, '"')
		}
		dst = append(dst, s[:i]...)
		switch c := s[i]; c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		s = s[i+1:]
	}
}

// Word-at-a-time byte tests (the classic "has zero byte" bit tricks), so
// that the long plain runs of log lines are scanned eight bytes per step.
// Whether a word is flagged is exact; which of its bytes are flagged is
// not (borrows spill upwards), so callers scan a flagged word byte by
// byte.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// hasZero flags words containing a zero byte.
func hasZero(x uint64) uint64 { return (x - ones) & ^x & highs }

// hasLess flags words containing a byte below n (n <= 128).
func hasLess(x uint64, n uint64) uint64 { return (x - ones*n) & ^x & highs }

// indexEscape returns the index of the first byte of s that JSON requires
// escaping ('"', '\\', < 0x20), or -1.
func indexEscape(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		if hasLess(x, 0x20)|hasZero(x^(ones*'"'))|hasZero(x^(ones*'\\')) != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return -1
}

// indexSpecial returns the index of the first byte of s that ends a run of
// plain ASCII inside a JSON string ('"', '\\', < 0x20, >= 0x80), or -1.
func indexSpecial(s []byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		if hasLess(x, 0x20)|hasZero(x^(ones*'"'))|hasZero(x^(ones*'\\'))|(x&highs) != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
			return i
		}
	}
	return -1
}

// envelope is one decoded line. Its slices point into the line or into the
// decoder's scratch space and are valid until the next decode.
type envelope struct {
	received time.Time
	peer     []byte
	listener []byte
	data     []byte
}

// errNotFast tells the fast decoder gave up on a line that may still be
// valid JSON; the general decoder then takes it.
var errNotFast = errors.New("not in the canonical envelope form")

// envelopeDecoder decodes envelope lines. It is not safe for concurrent use.
type envelopeDecoder struct {
	scratch []byte // unescaped string values
	// The last "t" text and its value: records received together share
	// it, and parsing is the costliest step left.
	lastT    []byte
	lastTime time.Time
}

// decode decodes one line (without its newline).
//
// Lines in the form appendEnvelope writes take a fast path that does not
// allocate; anything else (whitespace, other escapes, unknown fields) goes
// through encoding/json, so every valid JSON spelling of an envelope decodes
// the same way.
func (d *envelopeDecoder) decode(line []byte) (envelope, error) {
	var f rawFields
	err := d.decodeFast(line, &f)
	if errors.Is(err, errNotFast) {
		err = decodeSlow(line, &f)
	}
	if err != nil {
		return envelope{}, err
	}
	return d.finish(&f)
}

// rawFields holds the string values of a line's fields, unescaped, base64
// not yet decoded.
type rawFields struct {
	t, p, l, m, b    []byte
	hasT, hasP, hasL bool
	hasM, hasB       bool
}

func (d *envelopeDecoder) decodeFast(line []byte, f *rawFields) error {
	d.scratch = d.scratch[:0]
	if len(line) < 2 || line[0] != '{' {
		return errNotFast
	}
	i := 1
	for {
		// "k":
		if i+4 > len(line) || line[i] != '"' || line[i+2] != '"' || line[i+3] != ':' {
			return errNotFast
		}
		key := line[i+1]
		i += 4
		val, next, err := d.fastString(line, i)
		if err != nil {
			return err
		}
		i = next
		switch key {
		case 't':
			f.t, f.hasT = val, true
		case 'p':
			f.p, f.hasP = val, true
		case 'l':
			f.l, f.hasL = val, true
		case 'm':
			f.m, f.hasM = val, true
		case 'b':
			f.b, f.hasB = val, true
		default:
			return errNotFast
		}
		if i >= len(line) {
			return errNotFast
		}
		switch line[i] {
		case ',':
			i++
		case '}':
			if i+1 != len(line) {
				return errNotFast
			}
			return nil
		default:
			return errNotFast
		}
	}
}

// fastString reads the JSON string starting at line[i] (the opening quote)
// and returns its unescaped value and the index after the closing quote.
// A value without escapes is returned as a subslice of line; an escaped one
// is unescaped into d.scratch.
func (d *envelopeDecoder) fastString(line []byte, i int) ([]byte, int, error) {
	if i >= len(line) || line[i] != '"' {
		return nil, 0, errNotFast
	}
	i++
	start := i
	high := false
	for {
		j := indexSpecial(line[i:])
		if j < 0 {
			return nil, 0, errNotFast
		}
		i += j
		switch c := line[i]; {
		case c == '"':
			raw := line[start:i]
			if high && !utf8.Valid(raw) {
				return nil, 0, errNotFast
			}
			return raw, i + 1, nil
		case c == '\\':
			return d.unescape(line, start, i, high)
		case c < 0x20:
			return nil, 0, errNotFast
		default: // >= 0x80: checked as UTF-8 once the string ends
			high = true
			i++
		}
	}
}

// unescape continues fastString from the first backslash at line[i],
// writing the value into a fresh region at the end of d.scratch.
func (d *envelopeDecoder) unescape(line []byte, start, i int, high bool) ([]byte, int, error) {
	// Reserve room for the whole value up front (unescaping never
	// lengthens), so the appends below never move earlier values.
	d.scratch = growTail(d.scratch, len(line)-start)
	out := d.scratch[len(d.scratch):len(d.scratch)]
	out = append(out, line[start:i]...)
	for {
		j := indexSpecial(line[i:])
		if j < 0 {
			return nil, 0, errNotFast
		}
		out = append(out, line[i:i+j]...)
		i += j
		c := line[i]
		switch {
		case c == '"':
			if high && !utf8.Valid(line[start:i]) {
				return nil, 0, errNotFast
			}
			d.scratch = d.scratch[:len(d.scratch)+len(out)]
			return out, i + 1, nil
		case c < 0x20:
			return nil, 0, errNotFast
		case c >= 0x80:
			high = true
			out = append(out, c)
			i++
			continue
		}
		// A backslash.
		if i+1 >= len(line) {
			return nil, 0, errNotFast
		}
		switch e := line[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'u':
			r, ok := hex4(line, i+2)
			// Surrogates need pairing and replacement rules: leave them
			// to encoding/json.
			if !ok || (r >= 0xD800 && r <= 0xDFFF) {
				return nil, 0, errNotFast
			}
			out = utf8.AppendRune(out, r)
			i += 4
		default:
			return nil, 0, errNotFast
		}
		i += 2
	}
}

// hex4 parses four hex digits at line[i:].
func hex4(line []byte, i int) (rune, bool) {
	if i+4 > len(line) {
		return 0, false
	}
	var r rune
	for _, c := range line[i : i+4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// slowFields is the general shape of an envelope for encoding/json;
// pointers tell absent from empty.
type slowFields struct {
	T *string `json:"t"`
	P *string `json:"p"`
	L *string `json:"l"`
	M *string `json:"m"`
	B *string `json:"b"`
}

func decodeSlow(line []byte, f *rawFields) error {
	var s slowFields
	if err := json.Unmarshal(line, &s); err != nil {
		return fmt.Errorf("envelope is not a JSON object of strings: %w", err)
	}
	*f = rawFields{}
	set := func(p *string, dst *[]byte, has *bool) {
		if p != nil {
			*dst, *has = []byte(*p), true
		}
	}
	set(s.T, &f.t, &f.hasT)
	set(s.P, &f.p, &f.hasP)
	set(s.L, &f.l, &f.hasL)
	set(s.M, &f.m, &f.hasM)
	set(s.B, &f.b, &f.hasB)
	return nil
}

// finish checks the fields and decodes time and base64.
func (d *envelopeDecoder) finish(f *rawFields) (envelope, error) {
	if !f.hasT {
		return envelope{}, errors.New(`envelope has no "t" (receive time)`)
	}
	var e envelope
	if string(f.t) == string(d.lastT) && d.lastT != nil {
		e.received = d.lastTime
	} else {
		t, err := time.Parse(time.RFC3339Nano, string(f.t))
		if err != nil {
			return envelope{}, fmt.Errorf(`envelope "t": %w`, err)
		}
		e.received = t.UTC()
		d.lastT = append(d.lastT[:0], f.t...)
		d.lastTime = e.received
	}
	e.peer, e.listener = f.p, f.l
	switch {
	case f.hasM && f.hasB:
		return envelope{}, errors.New(`envelope has both "m" and "b"`)
	case f.hasM:
		e.data = f.m
	case f.hasB:
		n := base64.StdEncoding.DecodedLen(len(f.b))
		d.scratch = growTail(d.scratch, n)
		buf := d.scratch[len(d.scratch) : len(d.scratch)+n]
		m, err := base64.StdEncoding.Decode(buf, f.b)
		if err != nil {
			return envelope{}, fmt.Errorf(`envelope "b": %w`, err)
		}
		e.data = buf[:m]
	default:
		return envelope{}, errors.New(`envelope has neither "m" nor "b" (the record)`)
	}
	return e, nil
}

// growTail makes sure b has room for n more bytes past len(b) without
// moving what is already there (earlier values may point into it: if it
// must grow, it is copied to a new array and the old one is left intact).
func growTail(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	grown := make([]byte, len(b), 2*cap(b)+n)
	copy(grown, b)
	return grown
}

// AppendRecords appends the envelope lines of records, uncompressed. The
// store keeps each block's raw records in this same format (zstd-packed),
// so that NewRecordReader with FormatEnvelope reads them back exactly.
func AppendRecords(dst []byte, records []dataset.Record) []byte {
	enc := newEnvelopeEncoder("")
	for _, r := range records {
		dst = enc.append(dst, r.Received, r.Peer, r.Data)
	}
	return dst
}
