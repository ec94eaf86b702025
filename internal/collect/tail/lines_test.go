package tail

import (
	"bytes"
	"slices"
	"testing"
)

func TestSplitRecords(t *testing.T) {
	got := splitRecords([]byte("a\r\nbb\n\n\r\nccccc\ndd"), 3)
	want := [][]byte{[]byte("a"), []byte("bb"), []byte("ccc"), []byte("cc"), []byte("dd")}
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, _, ok := nextRecord([]byte("no newline"), 64, false); ok {
		t.Error("unterminated line taken before the final flush")
	}
}

// scanIncrementally reads data in two parts the way the tail does, cutting
// the first part at whole records, and returns the records of both.
func scanIncrementally(data []byte, cut, max int) [][]byte {
	var out [][]byte
	pos := 0
	for {
		rec, adv, ok := nextRecord(data[pos:cut], max, false)
		if !ok {
			break
		}
		if len(rec) > 0 {
			out = append(out, rec)
		}
		pos += adv
	}
	return append(out, splitRecords(data[pos:], max)...)
}

func FuzzSplitRecords(f *testing.F) {
	f.Add([]byte("line one\nline two\r\n\npartial"), 3, 4)
	f.Add([]byte("abcdefgh\n"), 4, 4)
	f.Add([]byte("\r\n\r\r\n"), 1, 1)
	f.Fuzz(func(t *testing.T, data []byte, cut, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		if cut < 0 || cut > len(data) {
			cut = len(data)
		}
		whole := splitRecords(data, max)
		for _, r := range whole {
			if len(r) == 0 || len(r) > max || bytes.IndexByte(r, '\n') >= 0 {
				t.Fatalf("bad record %q (max %d)", r, max)
			}
		}
		// Where the file happened to end when it was read must not change
		// the records: a restart re-splits saved ranges.
		if got := scanIncrementally(data, cut, max); !slices.EqualFunc(got, whole, bytes.Equal) {
			t.Fatalf("read in two parts at %d: %q; whole: %q", cut, got, whole)
		}
		// No byte is lost other than line endings.
		joined := bytes.Join(whole, nil)
		stripped := bytes.ReplaceAll(data, []byte("\n"), nil)
		if len(joined) > len(stripped) {
			t.Fatalf("records hold more bytes (%d) than the data (%d)", len(joined), len(stripped))
		}
	})
}
