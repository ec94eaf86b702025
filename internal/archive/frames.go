package archive

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// An object mamori writes is cut into zstd frames of FrameRecords records
// each, preceded by a zstd skippable frame that lists them (the frame
// table). A reader can then decode any run of records by reading only the
// frames that hold it: the store keeps, for each block of events, where
// its records are in the archive instead of a second copy of them. zstd
// decoders skip skippable frames, so `zstd -dc` still reads the object as
// one NDJSON stream.

// FrameRecords is how many records one frame of an object holds (the last
// frame may hold fewer). It matches the processor's default block size, so
// that a block is one frame.
const FrameRecords = 4096

// Frame is one zstd frame of an object: where its compressed bytes are and
// which records it holds.
type Frame struct {
	Offset int64 // byte offset of the frame in the object
	Length int64 // compressed bytes
	First  int   // index of its first record in the object
	Count  int   // records in it
}

// The frame table's skippable frame: magic 0x184D2A5E (one of the sixteen
// zstd reserves for skippable frames), its length, then "MFT1", the number
// of frames and each frame's compressed length and record count, as
// uvarints. Offsets follow from the lengths: the first frame starts right
// after the table.
const (
	frameTableMagic = 0x184D2A5E
	frameTableTag   = "MFT1"
	// maxFrameTable bounds the table a reader accepts: an object holds at
	// most a few thousand frames.
	maxFrameTable = 1 << 20
)

// appendFrameTable appends the skippable frame listing frames (lengths
// and counts; offsets are implied).
func appendFrameTable(dst []byte, frames []Frame) []byte {
	start := len(dst)
	dst = binary.LittleEndian.AppendUint32(dst, frameTableMagic)
	dst = append(dst, 0, 0, 0, 0) // length, filled below
	dst = append(dst, frameTableTag...)
	dst = binary.AppendUvarint(dst, uint64(len(frames)))
	for _, f := range frames {
		dst = binary.AppendUvarint(dst, uint64(f.Length))
		dst = binary.AppendUvarint(dst, uint64(f.Count))
	}
	binary.LittleEndian.PutUint32(dst[start+4:], uint32(len(dst)-start-8))
	return dst
}

// isSkippable reports whether b starts with a zstd skippable frame's magic.
func isSkippable(b []byte) bool {
	return len(b) >= 4 && binary.LittleEndian.Uint32(b)&0xFFFFFFF0 == 0x184D2A50
}

// readSkippable consumes the skippable frames at the start of br and
// returns the frame table, if one of them is mamori's (nil otherwise).
func readSkippable(br *bufio.Reader) ([]Frame, error) {
	var frames []Frame
	var offset int64
	for {
		head, err := br.Peek(8)
		if err != nil || !isSkippable(head) {
			return frames, nil
		}
		magic := binary.LittleEndian.Uint32(head)
		size := int64(binary.LittleEndian.Uint32(head[4:]))
		if _, err := br.Discard(8); err != nil {
			return nil, err
		}
		offset += 8
		if magic != frameTableMagic || size > maxFrameTable {
			if _, err := io.CopyN(io.Discard, br, size); err != nil {
				return nil, fmt.Errorf("skippable frame: %w", err)
			}
			offset += size
			continue
		}
		payload := make([]byte, size)
		if _, err := io.ReadFull(br, payload); err != nil {
			return nil, fmt.Errorf("frame table: %w", err)
		}
		offset += size
		if frames, err = parseFrameTable(payload, offset); err != nil {
			return nil, err
		}
	}
}

// parseFrameTable reads a frame table's payload; start is the offset of
// the first frame (the end of the table).
func parseFrameTable(b []byte, start int64) ([]Frame, error) {
	if len(b) < len(frameTableTag) || string(b[:len(frameTableTag)]) != frameTableTag {
		return nil, nil // another writer's skippable frame
	}
	b = b[len(frameTableTag):]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, errors.New("frame table: bad frame count")
	}
	b = b[k:]
	frames := make([]Frame, 0, n)
	off, first := start, 0
	for i := uint64(0); i < n; i++ {
		length, k1 := binary.Uvarint(b)
		if k1 <= 0 {
			return nil, fmt.Errorf("frame table: frame %d: bad length", i)
		}
		count, k2 := binary.Uvarint(b[k1:])
		if k2 <= 0 || length == 0 || length > 1<<40 || count == 0 || count > 1<<30 {
			return nil, fmt.Errorf("frame table: frame %d: bad length or count", i)
		}
		b = b[k1+k2:]
		frames = append(frames, Frame{Offset: off, Length: int64(length), First: first, Count: int(count)})
		off += int64(length)
		first += int(count)
	}
	return frames, nil
}

// Span returns the byte range of the frames that hold records [first,
// first+n), and the index of the first record in that range; false when
// the frames do not hold them all.
func Span(frames []Frame, first, n int) (offset, length int64, spanFirst int, ok bool) {
	if n <= 0 || len(frames) == 0 {
		return 0, 0, 0, false
	}
	end := first + n
	for i, f := range frames {
		if first < f.First || first >= f.First+f.Count {
			continue
		}
		offset, spanFirst = f.Offset, f.First
		for _, g := range frames[i:] {
			length = g.Offset + g.Length - offset
			if end <= g.First+g.Count {
				return offset, length, spanFirst, true
			}
		}
		return 0, 0, 0, false
	}
	return 0, 0, 0, false
}

// ReadRange returns n bytes of the object at key from offset off: the
// frames of a block's records.
func (a *Archive) ReadRange(ctx context.Context, key string, off, n int64) ([]byte, error) {
	if off < 0 || n < 0 {
		return nil, fmt.Errorf("archive read %s: bad range %d+%d", key, off, n)
	}
	buf := make([]byte, n)
	if _, err := ParseKey(key); err == nil && a.files != nil {
		// Straight from the file (mamori's keys map to paths unescaped): fileblob's range reader costs more than
		// the read for the small ranges search asks for.
		f, err := os.Open(a.files.path(key))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				err = fmt.Errorf("%w: %v", ErrNotFound, err)
			}
			return nil, fmt.Errorf("archive read %s: %w", key, err)
		}
		defer f.Close()
		if _, err := f.ReadAt(buf, off); err != nil {
			return nil, fmt.Errorf("archive read %s at %d+%d: %w", key, off, n, err)
		}
		return buf, nil
	}
	r, err := a.bucket.NewRangeReader(ctx, key, off, n, nil)
	if err != nil {
		return nil, fmt.Errorf("archive read %s: %w", key, a.wrapErr(err))
	}
	defer r.Close()
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, fmt.Errorf("archive read %s at %d+%d: %w", key, off, n, err)
	}
	return buf, nil
}

// Local reports whether the archive is a local directory (file://), where
// reading a few frames of an object is as cheap as reading a local file.
func (a *Archive) Local() bool { return a.files != nil }
