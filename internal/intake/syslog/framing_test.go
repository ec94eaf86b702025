package syslog

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// chunkReader returns its data in reads of at most n bytes.
type chunkReader struct {
	data []byte
	n    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.n, len(p), len(r.data))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

type framesRead struct {
	msgs          []string
	truncated     []bool
	framingErrors int64
	bytesRead     int64
}

// readFrames reads every message of input, fed in reads of chunk bytes.
func readFrames(t testing.TB, input []byte, chunk, max int) framesRead {
	t.Helper()
	fr := newFrameReader(&chunkReader{data: input, n: chunk}, max)
	var res framesRead
	for i := 0; ; i++ {
		if i > len(input)+10 {
			t.Fatalf("more messages than input bytes: the reader does not make progress")
		}
		msg, truncated, err := fr.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("next: %v", err)
			}
			break
		}
		res.msgs = append(res.msgs, string(msg))
		res.truncated = append(res.truncated, truncated)
	}
	res.framingErrors = fr.framingErrors
	res.bytesRead = fr.bytesRead
	return res
}

func TestFrameReader(t *testing.T) {
	tests := []struct {
		name          string
		input         string
		max           int
		want          []string
		truncated     []int // indexes of the messages cut to max
		framingErrors int64
	}{
		{name: "octet counted", input: "11 <13>1 hello13 <14>1 goodbye",
			want: []string{"<13>1 hello", "<14>1 goodbye"}},
		{name: "LF", input: "<13>a b\n<14>c d\n", want: []string{"<13>a b", "<14>c d"}},
		{name: "CRLF", input: "<13>a\r\n<14>b\r\n", want: []string{"<13>a", "<14>b"}},
		{name: "NUL", input: "<13>a\x00<14>b\x00", want: []string{"<13>a", "<14>b"}},
		{name: "mixed on one connection", input: "5 <1>ab<2>cd\n3 <3><4>x\x00<5>y\r\n5 <6>zz",
			want: []string{"<1>ab", "<2>cd", "<3>", "<4>x", "<5>y", "<6>zz"}},
		{name: "last message without terminator", input: "<1>a\n<2>b", want: []string{"<1>a", "<2>b"}},
		{name: "blank lines are not messages", input: "\n\n<1>a\n\r\n\x00<2>b\n", want: []string{"<1>a", "<2>b"}},
		{name: "line ending inside a counted frame", input: "5 <1>a\n6 <2>b\r\n", want: []string{"<1>a", "<2>b"}},
		{name: "stray LF after a counted frame", input: "4 <1>a\n4 <2>b\n", want: []string{"<1>a", "<2>b"}},
		{name: "count within max needs no PRI", input: "3 abc<1>x\n", want: []string{"abc", "<1>x"}},
		{name: "message of exactly max with CRLF", input: "<1>45678\r\n<2>ok\n", max: 8,
			want: []string{"<1>45678", "<2>ok"}},
		{name: "over-long line", input: "<1>456789\n<2>ok\n", max: 8,
			want: []string{"<1>45678", "<2>ok"}, truncated: []int{0}},
		{name: "over-long line resyncs at NUL", input: "<1>0123456789abcdef\x00<2>ok\n", max: 8,
			want: []string{"<1>01234", "<2>ok"}, truncated: []int{0}},
		{name: "over-long line at end of stream", input: "<1>0123456789abcdef", max: 8,
			want: []string{"<1>01234"}, truncated: []int{0}},
		{name: "over-long counted frame", input: "23 <1>45678901234567890123<2>ok\n", max: 8,
			want: []string{"<1>45678", "<2>ok"}, truncated: []int{0}},
		{name: "over-long counted frame ends the stream", input: "23 <1>45678901234567890123", max: 8,
			want: []string{"<1>45678"}, truncated: []int{0}},
		{name: "stream ends inside a counted frame", input: "10 <1>abc", want: []string{"<1>abc"}, framingErrors: 1},
		{name: "implausible count is a plain line", input: "1000000 packets dropped\n<2>ok\n", max: 64,
			want: []string{"1000000 packets dropped", "<2>ok"}, framingErrors: 1},
		{name: "zero-length frame", input: "0 <1>a\n0 0 4 <2>b", want: []string{"<1>a", "<2>b"}, framingErrors: 3},
		{name: "digits then LF", input: "123\n<1>x\n", want: []string{"123", "<1>x"}},
		{name: "digits then EOF", input: "<1>x\n123", want: []string{"<1>x", "123"}},
		{name: "non-digit after count", input: "12a <1>x\n-5 <2>y\n", want: []string{"12a <1>x", "-5 <2>y"}},
		{name: "too many digits", input: "12345678901 <1>x\n", want: []string{"12345678901 <1>x"}},
		{name: "date-like line", input: "2024-05-01T10:00:00Z host app: hi\n",
			want: []string{"2024-05-01T10:00:00Z host app: hi"}},
		{name: "garbage bytes", input: "\xff\xfe\x00<1>a\n\x01\x02\n", want: []string{"\xff\xfe", "<1>a", "\x01\x02"}},
		{name: "empty stream", input: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = 1024
			}
			for _, chunk := range []int{1, 2, 3, 7, 1 << 20} {
				res := readFrames(t, []byte(tc.input), chunk, max)
				if fmt.Sprintf("%q", res.msgs) != fmt.Sprintf("%q", tc.want) {
					t.Errorf("chunk %d: messages %q, want %q", chunk, res.msgs, tc.want)
					continue
				}
				for i, tr := range res.truncated {
					wantTr := false
					for _, j := range tc.truncated {
						wantTr = wantTr || j == i
					}
					if tr != wantTr {
						t.Errorf("chunk %d: message %d truncated=%v, want %v", chunk, i, tr, wantTr)
					}
				}
				if res.framingErrors != tc.framingErrors {
					t.Errorf("chunk %d: framing errors %d, want %d", chunk, res.framingErrors, tc.framingErrors)
				}
				if res.bytesRead != int64(len(tc.input)) {
					t.Errorf("chunk %d: bytes read %d, want %d", chunk, res.bytesRead, len(tc.input))
				}
			}
		})
	}
}

// A frame much longer than the reader's buffer is skipped without holding it.
func TestFrameReaderSkipsHugeFrames(t *testing.T) {
	const max = 16
	var in bytes.Buffer
	huge := "<1>" + strings.Repeat("x", 100000)
	fmt.Fprintf(&in, "%d %s", len(huge), huge)
	in.WriteString("<2>" + strings.Repeat("y", 100000) + "\n")
	in.WriteString("5 <3>ok")
	res := readFrames(t, in.Bytes(), 4096, max)
	want := []string{huge[:max], ("<2>" + strings.Repeat("y", 100000))[:max], "<3>ok"}
	if fmt.Sprintf("%q", res.msgs) != fmt.Sprintf("%q", want) {
		t.Fatalf("messages %q, want %q", res.msgs, want)
	}
	if !res.truncated[0] || !res.truncated[1] || res.truncated[2] {
		t.Fatalf("truncated %v, want [true true false]", res.truncated)
	}
}

// deadlineReader fails every other read with a deadline error, as a net.Conn
// with a read deadline does when no data comes in time.
type deadlineReader struct {
	r    io.Reader
	tick bool
}

func (d *deadlineReader) Read(p []byte) (int, error) {
	d.tick = !d.tick
	if d.tick {
		return 0, fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)
	}
	return d.r.Read(p)
}

func TestFrameReaderResumesAfterDeadline(t *testing.T) {
	input := "11 <13>1 hello<14>split across reads\n"
	fr := newFrameReader(&deadlineReader{r: &chunkReader{data: []byte(input), n: 3}}, 1024)
	var got []string
	timeouts := 0
	for {
		msg, _, err := fr.next()
		if errors.Is(err, os.ErrDeadlineExceeded) {
			timeouts++
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(msg))
	}
	want := []string{"<13>1 hello", "<14>split across reads"}
	if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
		t.Fatalf("messages %q, want %q", got, want)
	}
	if timeouts == 0 {
		t.Fatal("the reader never saw a deadline error: the test did not test resumption")
	}
}

// Framing must not depend on where reads split the stream: reading the input
// whole and in small pieces gives the same messages.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("11 <13>1 hello<14>b\n"), uint8(3), uint16(64))
	f.Add([]byte("0 <1>a\r\n\x0023 <1>45678901234567890123"), uint8(1), uint16(8))
	f.Add([]byte("1000000 packets\n9999999999 <x\n<1>abc"), uint8(5), uint16(16))
	f.Fuzz(func(t *testing.T, input []byte, chunk uint8, max uint16) {
		size := int(max%2048) + 1
		whole := readFrames(t, input, len(input)+1, size)
		pieces := readFrames(t, input, int(chunk%16)+1, size)
		if fmt.Sprintf("%q %v %d", whole.msgs, whole.truncated, whole.framingErrors) !=
			fmt.Sprintf("%q %v %d", pieces.msgs, pieces.truncated, pieces.framingErrors) {
			t.Fatalf("split changes the result:\nwhole  %q %v %d\npieces %q %v %d",
				whole.msgs, whole.truncated, whole.framingErrors, pieces.msgs, pieces.truncated, pieces.framingErrors)
		}
		total := 0
		for _, m := range whole.msgs {
			if len(m) == 0 || len(m) > size {
				t.Fatalf("message of %d bytes (max %d): %q", len(m), size, m)
			}
			total += len(m)
		}
		if total > len(input) {
			t.Fatalf("%d message bytes from %d input bytes", total, len(input))
		}
	})
}
