// Package tail follows a growing line log, such as Kea's, and archives its
// lines in batches, each line one record, exactly as written (without its
// line ending).
//
// The tail polls the file. It keeps the offset of the last archived byte
// with the file's identity (device, inode and a checksum of its first
// bytes) in its state file, and:
//
//   - resumes at that offset after a restart, also when the file was
//     renamed away meanwhile (it finishes that file, then takes the new one);
//   - follows rename rotation: when the path names a new file, the old one
//     is read until it has stopped growing for RotateWait, then the new one
//     is read from its beginning;
//   - follows copytruncate: a file that shrinks, or whose first bytes
//     change, is read again from its beginning;
//   - keeps an unterminated last line until its newline arrives, or until
//     its file is rotated or truncated, when it is archived as it is.
//
// Before a batch is written, its byte range and receive time are saved as
// pending; after a crash the same range is archived again under the same
// batch ID and time, so it lands in the same archive object.
package tail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/poll"
	"github.com/mamori-sec/mamori/internal/collect/state"
	"github.com/mamori-sec/mamori/internal/intake"
)

// fileState is the tail's state file.
type fileState struct {
	Version int `json:"version"`
	// File is the file Offset belongs to.
	File fileID `json:"file"`
	// Offset is how many bytes of File are archived.
	Offset int64 `json:"offset"`
	// Pending is the batch being written, if any.
	Pending *pending `json:"pending,omitempty"`
}

// pending is a batch written, or about to be, whose end is not yet saved
// as the offset: bytes [Start, End) of the file, with its ID and time.
type pending struct {
	ID       string    `json:"id"`
	Start    int64     `json:"start"`
	End      int64     `json:"end"`
	Received time.Time `json:"received"`
}

// Tailer follows one file.
type Tailer struct {
	cfg   Config
	env   collect.Env
	store *state.Store
	st    fileState
	found bool // state was loaded from disk and not yet acted on
	fresh bool // no state existed: StartAt applies to the first open

	f          *os.File // the file being read, nil when none is open
	readOff    int64    // bytes of f read; buf holds [st.Offset, readOff)
	buf        []byte
	firstRead  time.Time // when buf first held a whole record since the last flush
	lastGrowth time.Time // when f last grew
	rotatedAt  time.Time // when the path was first seen naming another file
	chunk      []byte
}

// New loads the tail's state from env.StateDir. The file is opened by Run;
// it need not exist yet. A corrupt state file is an error.
func New(cfg Config, env collect.Env) (*Tailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	env, err := env.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("tail %s: %w", cfg.Name, err)
	}
	store, err := state.Open(env.StateDir)
	if err != nil {
		return nil, fmt.Errorf("tail %s: %w", cfg.Name, err)
	}
	t := &Tailer{cfg: cfg, env: env, store: store, chunk: make([]byte, 64<<10)}
	if t.found, err = store.Load(cfg.Name, &t.st); err != nil {
		return nil, fmt.Errorf("tail %s: %w", cfg.Name, err)
	}
	t.fresh = !t.found
	t.st.Version = 1
	return t, nil
}

// Run follows the file every PollInterval until ctx is done, then closes it
// and returns nil. Lines read but not yet archived are read again after a
// restart. Errors (an unreadable file, a failed write) are logged and the
// step is tried again at the next poll.
func (t *Tailer) Run(ctx context.Context) error {
	defer t.close()
	for {
		if err := t.step(ctx); err != nil && ctx.Err() == nil {
			t.env.Logger.Error("tail failed; retrying", "tail", t.cfg.Name, "path", t.cfg.Path, "error", err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if err := t.env.Sleep(ctx, t.cfg.PollInterval); err != nil || ctx.Err() != nil {
			return nil
		}
	}
}

func (t *Tailer) close() {
	if t.f != nil {
		_ = t.f.Close()
		t.f = nil
	}
}

// step does one poll: open, check for truncation, read, check for
// rotation, and archive what is due.
func (t *Tailer) step(ctx context.Context) error {
	now := t.env.Now()
	if t.f == nil {
		if err := t.open(ctx, now); err != nil || t.f == nil {
			return err
		}
	}
	if err := t.checkInPlace(ctx); err != nil {
		return err
	}
	grew, err := t.read(ctx)
	if err != nil {
		return err
	}
	if grew {
		t.lastGrowth = now
	}
	moved, err := t.pathMovedOn()
	if err != nil {
		return err
	}
	if moved {
		if t.rotatedAt.IsZero() {
			t.rotatedAt = now
		}
		quiet := t.rotatedAt
		if t.lastGrowth.After(quiet) {
			quiet = t.lastGrowth
		}
		if now.Sub(quiet) >= t.cfg.RotateWait {
			return t.finishRotated(ctx, now)
		}
	}
	if !t.firstRead.IsZero() && now.Sub(t.firstRead) >= t.cfg.FlushInterval {
		return t.flush(ctx, flushComplete)
	}
	return nil
}

// open opens the file to read: on the first step, the one the state names
// (possibly renamed); later, the file at the path, from its beginning.
func (t *Tailer) open(ctx context.Context, now time.Time) error {
	if t.found {
		// resume clears found once it has settled on a file, so that a
		// failure before that is retried the same way.
		return t.resume(ctx, now)
	}
	// StartAt concerns only a file that is there at the first open; one
	// that appears later is new and read whole.
	startAtEnd := t.fresh && t.cfg.StartAt == StartEnd
	t.fresh = false
	f, err := os.Open(t.cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	id, fi, err := identify(f)
	if err != nil {
		_ = f.Close()
		return err
	}
	t.use(f, id, 0)
	if startAtEnd {
		t.st.Offset, t.readOff = fi.Size(), fi.Size()
	}
	return t.save()
}

// use makes f the file being read, from offset.
func (t *Tailer) use(f *os.File, id fileID, offset int64) {
	t.close()
	t.f = f
	t.st.File = id
	t.st.Offset, t.readOff = offset, offset
	t.buf = t.buf[:0]
	t.firstRead, t.rotatedAt = time.Time{}, time.Time{}
	t.lastGrowth = t.env.Now()
}

// resume finds the file of the saved state: at the path, or renamed in the
// same directory. A file that is gone is given up with a warning, as is a
// pending batch that cannot be read again.
func (t *Tailer) resume(ctx context.Context, now time.Time) error {
	saved := t.st
	f, err := os.Open(t.cfg.Path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("open: %w", err)
	}
	if f != nil {
		fi, err := f.Stat()
		if err != nil {
			_ = f.Close()
			return fmt.Errorf("stat: %w", err)
		}
		ok, err := matches(f, fi, saved.File)
		if err != nil {
			_ = f.Close()
			return err
		}
		if ok {
			return t.resumeIn(ctx, f, saved, fi.Size())
		}
		_ = f.Close()
	}
	old, err := findRenamed(filepath.Dir(t.cfg.Path), saved.File)
	if err != nil {
		return fmt.Errorf("look for the rotated file: %w", err)
	}
	if old != nil {
		t.env.Logger.Info("resuming in the rotated file", "tail", t.cfg.Name, "file", old.Name(), "offset", saved.Offset)
		fi, err := old.Stat()
		if err != nil {
			_ = old.Close()
			return fmt.Errorf("stat: %w", err)
		}
		if err := t.resumeIn(ctx, old, saved, fi.Size()); err != nil {
			return err
		}
		t.rotatedAt = now
		return nil
	}
	if saved.Offset > 0 || saved.Pending != nil {
		t.env.Logger.Warn("the file read before the restart is gone; what it held past the saved offset is not archived",
			"tail", t.cfg.Name, "path", t.cfg.Path, "offset", saved.Offset)
	}
	t.st.Pending = nil
	t.st.File, t.st.Offset = fileID{}, 0
	if err := t.save(); err != nil {
		return err
	}
	t.found = false
	// The path's file, if any, is new: from its beginning.
	return t.open(ctx, now)
}

// resumeIn continues in f, the file of saved, first archiving the pending
// batch again.
func (t *Tailer) resumeIn(ctx context.Context, f *os.File, saved fileState, size int64) error {
	offset := saved.Offset
	if size < offset {
		t.env.Logger.Warn("the file shrank while mamori was stopped; reading it from the beginning",
			"tail", t.cfg.Name, "path", f.Name(), "size", size, "offset", offset)
		offset, saved.Pending = 0, nil
	}
	t.use(f, saved.File, offset)
	t.found = false
	t.st.Pending = saved.Pending
	if p := t.st.Pending; p != nil {
		if p.Start != offset || p.End > size {
			t.env.Logger.Warn("dropping a pending batch that no longer matches the file", "tail", t.cfg.Name, "batch", p.ID)
			t.st.Pending = nil
		} else {
			b := make([]byte, p.End-p.Start)
			if _, err := f.ReadAt(b, p.Start); err != nil {
				return fmt.Errorf("read pending batch: %w", err)
			}
			t.buf = append(t.buf, b...)
			t.readOff = p.End
			if err := t.flush(ctx, flushPendingOnly); err != nil {
				return err
			}
		}
	}
	return t.save()
}

// checkInPlace restarts the file from its beginning when it shrank below
// what was read (copytruncate) or no longer begins with the bytes it began
// with (truncated and written again past the old size). What was read of
// it is archived first, an unterminated last line included.
func (t *Tailer) checkInPlace(ctx context.Context) error {
	fi, err := t.f.Stat()
	if err != nil {
		return fmt.Errorf("stat: %w", err)
	}
	same := fi.Size() >= t.readOff
	if same {
		if same, err = sameHead(t.f, t.st.File); err != nil {
			return err
		}
	}
	if same {
		return nil
	}
	t.env.Logger.Info("file truncated or rewritten; reading it from the beginning", "tail", t.cfg.Name, "path", t.cfg.Path)
	if err := t.flush(ctx, flushFinal); err != nil {
		return err
	}
	id, _, err := identify(t.f)
	if err != nil {
		return err
	}
	f := t.f
	t.f = nil // keep use from closing it
	t.use(f, id, 0)
	return t.save()
}

// read reads what f holds past readOff, archiving full batches on the way.
func (t *Tailer) read(ctx context.Context) (bool, error) {
	grew := false
	for {
		n, err := t.f.ReadAt(t.chunk, t.readOff)
		if n > 0 {
			grew = true
			t.buf = append(t.buf, t.chunk[:n]...)
			t.readOff += int64(n)
			t.noteRead()
			if err := t.flush(ctx, flushFull); err != nil {
				return grew, err
			}
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return grew, fmt.Errorf("read: %w", err)
		}
		if n < len(t.chunk) {
			return grew, t.growHead()
		}
	}
}

// noteRead starts the flush clock when buf first holds a whole record.
func (t *Tailer) noteRead() {
	if t.firstRead.IsZero() {
		if _, _, ok := nextRecord(t.buf, t.cfg.MaxLineBytes, false); ok {
			t.firstRead = t.env.Now()
		}
	}
}

// growHead lengthens the identity's checksum while the file is shorter
// than headBytes, so that it identifies the file as well as it can.
func (t *Tailer) growHead() error {
	if t.st.File.HeadLen >= headBytes || t.readOff <= t.st.File.HeadLen {
		return nil
	}
	n := min(t.readOff, headBytes)
	sum, err := headSum(t.f, n)
	if err != nil {
		return err
	}
	t.st.File.Head, t.st.File.HeadLen = sum, n
	return nil
}

// pathMovedOn reports whether the path no longer names the open file.
func (t *Tailer) pathMovedOn() (bool, error) {
	fi, err := os.Stat(t.cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat: %w", err)
	}
	cur, err := t.f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat: %w", err)
	}
	return !os.SameFile(fi, cur), nil
}

// finishRotated archives the rest of the rotated-away file, an
// unterminated last line included, and moves on to the path's new file.
func (t *Tailer) finishRotated(ctx context.Context, now time.Time) error {
	if err := t.flush(ctx, flushFinal); err != nil {
		return err
	}
	t.env.Logger.Info("rotated file finished", "tail", t.cfg.Name, "path", t.cfg.Path, "bytes", t.st.Offset)
	t.close()
	return t.open(ctx, now)
}

// flush modes.
const (
	flushFull        = iota // only batches that reached FlushRecords or FlushBytes
	flushComplete           // every whole record
	flushFinal              // everything read, an unterminated last line too
	flushPendingOnly        // only the pending batch
)

// flush archives buf's records as the mode says, batch by batch.
func (t *Tailer) flush(ctx context.Context, mode int) error {
	for {
		if t.st.Pending == nil {
			if mode == flushPendingOnly {
				return nil
			}
			end, full := t.cut(mode == flushFinal)
			if end == 0 || (mode == flushFull && !full) {
				return nil
			}
			t.st.Pending = &pending{
				ID:       fmt.Sprintf("%s/%s/%d-%d", t.cfg.Name, t.st.File, t.st.Offset, t.st.Offset+end),
				Start:    t.st.Offset,
				End:      t.st.Offset + end,
				Received: t.env.Now().UTC(),
			}
			// Saved before the write: after a crash the same bytes are
			// archived again with the same ID and time.
			if err := t.save(); err != nil {
				return err
			}
		}
		p := t.st.Pending
		n := p.End - p.Start
		// The records get memory of their own: a sink may keep a batch
		// after Write returns, and buf is reused.
		if recs := splitRecords(bytes.Clone(t.buf[:n]), t.cfg.MaxLineBytes); len(recs) > 0 {
			b := intake.Batch{Dataset: t.cfg.Dataset, Listener: t.cfg.Name, ID: p.ID, Records: make([]intake.Record, len(recs))}
			for i, r := range recs {
				b.Records[i] = intake.Record{Data: r, Received: p.Received}
			}
			if err := poll.WriteBatch(ctx, t.env, b); err != nil {
				return err
			}
		}
		t.st.Offset = p.End
		t.st.Pending = nil
		t.buf = t.buf[:copy(t.buf, t.buf[n:])]
		t.firstRead = time.Time{}
		t.noteRead()
		if err := t.save(); err != nil {
			return err
		}
	}
}

// cut returns how many bytes of buf the next batch spans, and whether it
// is full (FlushRecords or FlushBytes reached). With final, an
// unterminated end of buf is a record too.
func (t *Tailer) cut(final bool) (end int64, full bool) {
	var n, records, size int
	for n < len(t.buf) {
		rec, adv, ok := nextRecord(t.buf[n:], t.cfg.MaxLineBytes, final)
		if !ok {
			break
		}
		n += adv
		if len(rec) > 0 {
			records++
			size += len(rec)
		}
		if records >= t.cfg.FlushRecords || size >= t.cfg.FlushBytes {
			return int64(n), true
		}
	}
	return int64(n), false
}

func (t *Tailer) save() error {
	if err := t.store.Save(t.cfg.Name, &t.st); err != nil {
		return fmt.Errorf("save offset: %w", err)
	}
	return nil
}
