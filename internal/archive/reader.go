package archive

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// MaxRecordBytes is the largest record Put accepts and the longest line
// read from an object written by others (not counting its line ending).
const MaxRecordBytes = 16 << 20

// maxEnvelopeLine bounds an envelope line: a record escaped to at most
// twice its size (see appendEnvelope) plus the other fields, whose peer and
// listener Put limits.
const maxEnvelopeLine = 2*MaxRecordBytes + 2*6*maxLabelBytes + 128

// Format says how an object's bytes become records.
type Format int

const (
	// FormatEnvelope is mamori's own objects (keys that ParseKey accepts):
	// each line is an envelope carrying one record, its receive time, peer
	// and listener.
	FormatEnvelope Format = iota + 1
	// FormatLines is objects written by others: each non-empty line is one
	// record, received at the object's modification time, from no peer.
	FormatLines
)

// String names the format.
func (f Format) String() string {
	switch f {
	case FormatEnvelope:
		return "envelope"
	case FormatLines:
		return "lines"
	default:
		return fmt.Sprintf("Format(%d)", int(f))
	}
}

// FormatOf returns the format the reader uses for key: FormatEnvelope for
// keys in mamori's own layout, FormatLines for anything else.
func FormatOf(key string) Format {
	if _, err := ParseKey(key); err == nil {
		return FormatEnvelope
	}
	return FormatLines
}

// Compression magic numbers. Compression is detected from an object's
// first bytes, never from its name: third-party writers name files
// inconsistently (fluentd's ".gz" is gzip, some exports are plain text
// named ".log" or compressed ones named ".json").
const (
	gzipMagic = "\x1f\x8b"
	zstdMagic = "\x28\xb5\x2f\xfd"
)

// hasMagic reports whether b starts with magic.
func hasMagic(b []byte, magic string) bool {
	return len(b) >= len(magic) && string(b[:len(magic)]) == magic
}

// slabSize is the size of the blocks record data is copied into: one
// allocation serves many records, and records never share bytes with later
// ones, so callers may keep them.
const slabSize = 64 << 10

// RecordReader streams the records of one object in order.
//
// Positions: Index is the record's 0-based line number in the decompressed
// object, counting every line, empty ones included. Empty lines (after the
// line ending, "\n" or "\r\n", is removed) yield no record, so indexes may
// have gaps, but the index of a given record never depends on anything but
// the object's bytes. A consumer that has processed every record with
// Index < N resumes by skipping those.
//
// Use it as a scanner:
//
//	for rr.Next() { use(rr.Index(), rr.Record()) }
//	if err := rr.Err(); err != nil { ... }
//
// The Data of each Record is its own: it is not overwritten by later calls.
type RecordReader struct {
	format  Format
	modTime time.Time
	sc      *bufio.Scanner
	dec     envelopeDecoder
	closers []func() error

	line     int // lines read so far
	index    int
	rec      dataset.Record
	listener string
	peers    map[string]string // see intern
	slab     []byte
	err      error
	name     string  // for error messages
	frames   []Frame // the object's frame table, when it has one
}

// NewRecordReader reads records from r, an object's bytes, compressed or
// not. name is used in error messages. For FormatLines every record gets
// received as its Received time.
func NewRecordReader(r io.Reader, format Format, name string, received time.Time) (*RecordReader, error) {
	return newRecordReader(r, format, name, received, nil, nil)
}

// newRecordReader is NewRecordReader with a decoder pool and a function
// that closes r (called last by Close, also when this fails).
func newRecordReader(r io.Reader, format Format, name string, received time.Time, decoders *decoderPool, closeBody func() error) (*RecordReader, error) {
	rr := &RecordReader{format: format, modTime: received, name: name}
	if closeBody != nil {
		rr.closers = append(rr.closers, closeBody)
	}
	if format != FormatEnvelope && format != FormatLines {
		_ = rr.Close()
		return nil, fmt.Errorf("read %s: unknown format %d", name, format)
	}
	body, err := rr.decompress(r, decoders)
	if err != nil {
		_ = rr.Close()
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	rr.sc = bufio.NewScanner(body)
	maxLine := MaxRecordBytes + 1 // + the '\r' of a CRLF line ending
	if format == FormatEnvelope {
		maxLine = maxEnvelopeLine
	}
	rr.sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	return rr, nil
}

// decompress returns the object's decompressed bytes, choosing by magic
// number.
func (rr *RecordReader) decompress(r io.Reader, decoders *decoderPool) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 32<<10)
	head, err := br.Peek(len(zstdMagic))
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("peek: %w", err)
	}
	if isSkippable(head) {
		// mamori's objects start with their frame table (frames.go).
		if rr.frames, err = readSkippable(br); err != nil {
			return nil, err
		}
		if head, err = br.Peek(len(zstdMagic)); err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("peek: %w", err)
		}
		if !hasMagic(head, zstdMagic) {
			return nil, errors.New("zstd skippable frame not followed by a zstd frame")
		}
	}
	switch {
	case hasMagic(head, zstdMagic):
		var d *zstd.Decoder
		if decoders != nil {
			d, err = decoders.get()
		} else {
			d, err = newDecoder()
		}
		if err != nil {
			return nil, err
		}
		if err := d.Reset(br); err != nil {
			decoders.put(d)
			return nil, fmt.Errorf("zstd: %w", err)
		}
		rr.closers = append(rr.closers, func() error {
			decoders.put(d)
			return nil
		})
		return d, nil
	case hasMagic(head, gzipMagic):
		// Concatenated gzip members (as appending writers produce) are read
		// as one stream.
		z, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		rr.closers = append(rr.closers, z.Close)
		return z, nil
	default:
		return br, nil
	}
}

// Next advances to the next record. It returns false at the end of the
// object or on an error (see Err).
func (rr *RecordReader) Next() bool {
	if rr.err != nil || rr.sc == nil {
		return false
	}
	for rr.sc.Scan() {
		line := rr.sc.Bytes()
		idx := rr.line
		rr.line++
		if len(line) == 0 {
			continue
		}
		if rr.format == FormatLines {
			rr.rec = dataset.Record{Data: rr.keep(line), Received: rr.modTime}
			rr.index = idx
			return true
		}
		e, err := rr.dec.decode(line)
		if err != nil {
			rr.err = fmt.Errorf("read %s: line %d: %w", rr.name, idx, err)
			return false
		}
		if string(e.listener) != rr.listener {
			rr.listener = string(e.listener)
		}
		rr.rec = dataset.Record{Data: rr.keep(e.data), Received: e.received, Peer: rr.intern(e.peer)}
		rr.index = idx
		return true
	}
	if err := rr.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			err = fmt.Errorf("line longer than the %d-byte limit: %w", MaxRecordBytes, err)
		}
		rr.err = fmt.Errorf("read %s: line %d: %w", rr.name, rr.line, err)
	}
	return false
}

// keep copies b into the reader's current slab (or its own array when
// large) and returns the copy, capped so that appending to it cannot touch
// a neighbour.
func (rr *RecordReader) keep(b []byte) []byte {
	if len(b) > slabSize/4 {
		return bytes.Clone(b)
	}
	if cap(rr.slab)-len(rr.slab) < len(b) {
		rr.slab = make([]byte, 0, slabSize)
	}
	start := len(rr.slab)
	rr.slab = append(rr.slab, b...)
	return rr.slab[start:len(rr.slab):len(rr.slab)]
}

// maxInterned bounds the peers a reader remembers.
const maxInterned = 1024

// intern returns b as a string, reusing the string of an earlier record
// with the same peer: an object holds few distinct peers, and this saves
// an allocation per record.
func (rr *RecordReader) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if s, ok := rr.peers[string(b)]; ok {
		return s
	}
	if rr.peers == nil || len(rr.peers) >= maxInterned {
		rr.peers = make(map[string]string)
	}
	s := string(b)
	rr.peers[s] = s
	return s
}

// Record returns the current record.
func (rr *RecordReader) Record() dataset.Record { return rr.rec }

// Index returns the current record's position: its 0-based line number in
// the decompressed object.
func (rr *RecordReader) Index() int { return rr.index }

// Listener returns the listener that received the current record ("" for
// objects written by others).
func (rr *RecordReader) Listener() string { return rr.listener }

// Frames returns the object's frame table (frames.go), or nil for an
// object written without one (by others, or by mamori before tables).
// Record indexes in it count records, as the reader's records do for
// envelopes (mamori writes no empty lines).
func (rr *RecordReader) Frames() []Frame { return rr.frames }

// Format returns how the object is read.
func (rr *RecordReader) Format() Format { return rr.format }

// Err returns the error that stopped Next, if any.
func (rr *RecordReader) Err() error { return rr.err }

// All returns the remaining records with their indexes, for range loops.
// Check Err after the loop.
func (rr *RecordReader) All() iter.Seq2[int, dataset.Record] {
	return func(yield func(int, dataset.Record) bool) {
		for rr.Next() {
			if !yield(rr.index, rr.rec) {
				return
			}
		}
	}
}

// Close releases the reader and the object it reads.
func (rr *RecordReader) Close() error {
	var errs []error
	for i := len(rr.closers) - 1; i >= 0; i-- {
		if err := rr.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	rr.closers = nil
	rr.sc = nil
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s: %w", rr.name, err)
	}
	return nil
}

// decoderPool reuses zstd decoders, whose tables are costly to build.
// A nil pool makes a decoder per use.
type decoderPool struct {
	pool sync.Pool
}

func newDecoder() (*zstd.Decoder, error) {
	// One goroutine per stream: decoding happens in the caller's
	// goroutine, and an idle pooled decoder holds no goroutines, so a
	// decoder the pool drops needs no Close.
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("zstd decoder: %w", err)
	}
	return d, nil
}

func (p *decoderPool) get() (*zstd.Decoder, error) {
	if d, ok := p.pool.Get().(*zstd.Decoder); ok {
		return d, nil
	}
	return newDecoder()
}

func (p *decoderPool) put(d *zstd.Decoder) {
	if p == nil {
		d.Close()
		return
	}
	// Drop the reference to the stream so that it can be collected.
	_ = d.Reset(nil)
	p.pool.Put(d)
}
