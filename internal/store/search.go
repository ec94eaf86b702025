package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/dataset"
)

// Position is where an event sits in the store, and the order of search
// results: time, then block, record offset and event position.
type Position struct {
	TS  time.Time
	Blk int64
	Off int32
	Sub int32
}

// ErrBadCursor is returned for a cursor that this store did not produce.
var ErrBadCursor = errors.New("invalid cursor")

// EncodeCursor makes an opaque cursor from a position.
func EncodeCursor(p Position) string {
	var b [8 + 8 + 4 + 4]byte
	binary.BigEndian.PutUint64(b[0:], uint64(p.TS.UnixMicro()))
	binary.BigEndian.PutUint64(b[8:], uint64(p.Blk))
	binary.BigEndian.PutUint32(b[16:], uint32(p.Off))
	binary.BigEndian.PutUint32(b[20:], uint32(p.Sub))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// DecodeCursor reads a cursor made by EncodeCursor.
func DecodeCursor(s string) (Position, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 24 {
		return Position{}, ErrBadCursor
	}
	return Position{
		TS:  time.UnixMicro(int64(binary.BigEndian.Uint64(b[0:]))).UTC(),
		Blk: int64(binary.BigEndian.Uint64(b[8:])),
		Off: int32(binary.BigEndian.Uint32(b[16:])),
		Sub: int32(binary.BigEndian.Uint32(b[20:])),
	}, nil
}

// RowQuery selects event positions.
type RowQuery struct {
	// Where is a parameterised SQL boolean expression over the events table
	// (from the query compiler) and Args its parameters; "" matches all.
	Where string
	Args  []any
	// From (inclusive) and To (exclusive) bound @timestamp; zero means open.
	From, To time.Time
	// Asc orders oldest first; the default is newest first.
	Asc bool
	// After continues after this position (in the query's order).
	After *Position
	// Blocks, when not nil, restricts the search to these blocks.
	Blocks []int64
	// Offsets, with a single block in Blocks, restricts the search to
	// these record offsets in it.
	Offsets []int32
	// Limit caps the rows returned; 0 means no limit.
	Limit int
}

func (q RowQuery) filter() (string, []any) {
	var parts []string
	var args []any
	switch {
	case len(q.Blocks) == 1:
		// a plain equality lets zone maps skip the other row groups
		parts = append(parts, "blk = ?")
		args = append(args, q.Blocks[0])
		if q.Offsets != nil {
			parts = append(parts, "list_contains(?, off)")
			args = append(args, q.Offsets)
		}
	case len(q.Blocks) == 0 && q.Blocks != nil:
		parts = append(parts, "FALSE")
	case q.Blocks != nil:
		// An IN list of constants lets DuckDB skip row groups whose block
		// ids cannot be in it; list_contains would scan them all.
		parts = append(parts, "blk IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(q.Blocks)), ", ")+")")
		for _, b := range q.Blocks {
			args = append(args, b)
		}
	}
	rest, restArgs := q.rest()
	return strings.Join(append(parts, rest), " AND "), append(args, restArgs...)
}

// rest is the filter without its blocks clause.
func (q RowQuery) rest() (string, []any) {
	var parts []string
	var args []any
	if !q.From.IsZero() {
		parts = append(parts, "ts >= ?")
		args = append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		parts = append(parts, "ts < ?")
		args = append(args, q.To.UTC())
	}
	if q.After != nil {
		op := "<"
		if q.Asc {
			op = ">"
		}
		parts = append(parts, "(ts, blk, off, sub) "+op+" (?, ?, ?, ?)")
		args = append(args, q.After.TS, q.After.Blk, q.After.Off, q.After.Sub)
	}
	if q.Where != "" {
		parts = append(parts, "("+q.Where+")")
		args = append(args, q.Args...)
	}
	if len(parts) == 0 {
		return "TRUE", nil
	}
	return strings.Join(parts, " AND "), args
}

// unionBlocks is the most blocks a query reads as one SELECT per block.
// DuckDB prunes row groups by an IN list's smallest and largest values
// only, so a few blocks spread over a month read the whole month; with
// blk = ? per block each reads its own row groups (measured at 10 M
// events: 9 blocks in 4 ms instead of 15–40 ms).
const unionBlocks = 64

// selectEvents is a SELECT of cols from the events q selects (After,
// Limit and order aside).
func (q RowQuery) selectEvents(cols string) (string, []any) {
	if n := len(q.Blocks); n > 1 && n <= unionBlocks {
		rest, restArgs := q.rest()
		var b strings.Builder
		args := make([]any, 0, n*(1+len(restArgs)))
		for i, blk := range q.Blocks {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			b.WriteString("SELECT " + cols + " FROM events WHERE blk = ? AND " + rest)
			args = append(append(args, blk), restArgs...)
		}
		return b.String(), args
	}
	where, args := q.filter()
	return "SELECT " + cols + " FROM events WHERE " + where, args
}

// Rows returns the positions of matching events in order.
func (s *Store) Rows(ctx context.Context, q RowQuery) ([]Position, error) {
	sel, args := q.selectEvents("ts, blk, off, sub")
	dir := "DESC"
	if q.Asc {
		dir = "ASC"
	}
	text := "SELECT ts, blk, off, sub FROM (" + sel + ") ORDER BY ts " + dir + ", blk " + dir + ", off " + dir + ", sub " + dir
	if q.Limit > 0 {
		text += " LIMIT ?"
		args = append(args, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, text, args...)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	var out []Position
	for rows.Next() {
		var p Position
		if err := rows.Scan(&p.TS, &p.Blk, &p.Off, &p.Sub); err != nil {
			return nil, fmt.Errorf("search: %w", err)
		}
		p.TS = p.TS.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// Count returns the number of matching events (After and Limit ignored).
func (s *Store) Count(ctx context.Context, q RowQuery) (int64, error) {
	q.After = nil
	sel, args := q.selectEvents("1")
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM ("+sel+")", args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}

// CountUpTo counts the events matching q like Count, but stops once more
// than limit match: it then returns limit and complete false. A count
// bounded this way stops scanning as soon as enough rows are found, which
// keeps a query with many hits as fast as its first page.
func (s *Store) CountUpTo(ctx context.Context, q RowQuery, limit int64) (n int64, complete bool, err error) {
	q.After = nil
	sel, args := q.selectEvents("1")
	args = append(args, limit+1)
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM ("+sel+" LIMIT ?)", args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("count up to %d: %w", limit, err)
	}
	if n > limit {
		return limit, false, nil
	}
	return n, true, nil
}

// BlockInfo describes a stored block.
type BlockInfo struct {
	Blk          int64
	MinTS, MaxTS time.Time
	Events       int
	// Complete says that every event the block's records yield is stored:
	// retention has not trimmed the block. Its events can then be
	// re-derived without asking the events table which exist.
	Complete bool
}

// Blooms returns the marshalled token filters of blocks. A block whose
// file cannot be read is left out (its filter is then unknown).
func (s *Store) Blooms(ctx context.Context, blks []int64) (map[int64][]byte, error) {
	out := make(map[int64][]byte, len(blks))
	for _, blk := range blks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b, err := s.files.readBloom(blk)
		if err != nil {
			continue
		}
		out[blk] = b
	}
	return out, nil
}

// BlockData is a block's raw records and where they came from: everything
// needed to re-derive its events.
type BlockData struct {
	Blk         int64
	Object      string
	Dataset     string
	FirstRecord int64
	Ingested    time.Time
	Records     []dataset.Record
}

// ReadBlock loads and unpacks a block: from its file, or from the archive
// frames that hold its records.
func (s *Store) ReadBlock(ctx context.Context, blk int64) (BlockData, error) {
	d := BlockData{Blk: blk}
	var header []byte
	var records int
	var refOff, refLen, refFirst sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT object, dataset, first_record, records, ingested, header, arch_off, arch_len, arch_first FROM blocks WHERE blk = ?", blk).
		Scan(&d.Object, &d.Dataset, &d.FirstRecord, &records, &d.Ingested, &header, &refOff, &refLen, &refFirst)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("block %d: not found", blk)
	}
	if err != nil {
		return d, fmt.Errorf("block %d: %w", blk, err)
	}
	var raw []byte
	skip := int64(0)
	if refLen.Valid {
		if s.arch == nil {
			return d, fmt.Errorf("block %d: its records are in archive object %s, and the store was opened without the archive", blk, d.Object)
		}
		if raw, err = s.arch.ReadRange(ctx, d.Object, refOff.Int64, refLen.Int64); err != nil {
			return d, fmt.Errorf("block %d: %w", blk, err)
		}
		skip = d.FirstRecord - refFirst.Int64
	} else if _, raw, err = s.files.read(blk); err != nil {
		return d, err
	}
	plain, err := s.dec.DecodeAll(raw, nil)
	if err != nil {
		return d, fmt.Errorf("block %d: unpack: %w", blk, err)
	}
	rr, err := archive.NewRecordReader(bytes.NewReader(plain), archive.FormatEnvelope, fmt.Sprintf("block %d", blk), d.Ingested)
	if err != nil {
		return d, fmt.Errorf("block %d: %w", blk, err)
	}
	defer rr.Close()
	d.Records = make([]dataset.Record, 0, records)
	for i := int64(0); len(d.Records) < records && rr.Next(); i++ {
		if i < skip {
			continue
		}
		r := rr.Record()
		r.Header = header
		d.Records = append(d.Records, r)
	}
	if err := rr.Err(); err != nil {
		return d, fmt.Errorf("block %d: %w", blk, err)
	}
	if len(d.Records) != records {
		return d, fmt.Errorf("block %d: found %d of its %d records", blk, len(d.Records), records)
	}
	d.Ingested = d.Ingested.UTC()
	return d, nil
}

// ArchiveRefs lists the archive objects with keys in [from, to) that
// blocks read their records from: archive retention must keep them.
func (s *Store) ArchiveRefs(ctx context.Context, from, to string) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT object FROM blocks WHERE arch_len IS NOT NULL AND object >= ? AND object < ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("archive refs: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("archive refs: %w", err)
		}
		out[k] = true
	}
	return out, rows.Err()
}

// DeleteBefore removes a dataset's events older than cutoff (retention),
// and the blocks left without events.
func (s *Store) DeleteBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	// Blocks that reach back past the cutoff may lose events: they are
	// marked first, so that a crash between the two statements cannot leave
	// a block short of events without the mark (see BlockInfo.Complete).
	if _, err := s.db.ExecContext(ctx, `UPDATE blocks SET trimmed = TRUE WHERE min_ts < ? AND NOT coalesce(trimmed, FALSE)`, cutoff.UTC()); err != nil {
		return 0, fmt.Errorf("retention %s: mark blocks: %w", dataset, err)
	}
	defer s.index.reset()
	res, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE dataset = ? AND ts < ?`, dataset, cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("retention %s: %w", dataset, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("retention %s: %w", dataset, err)
	}
	if n == 0 {
		return 0, nil
	}
	rows, err := s.db.QueryContext(ctx, `DELETE FROM blocks WHERE min_ts < ? AND blk NOT IN
		(SELECT DISTINCT blk FROM events WHERE blk IN (SELECT blk FROM blocks WHERE min_ts < ?)) RETURNING blk`, cutoff.UTC(), cutoff.UTC())
	if err != nil {
		return n, fmt.Errorf("retention %s: blocks: %w", dataset, err)
	}
	var gone []int64
	for rows.Next() {
		var blk int64
		if err := rows.Scan(&blk); err != nil {
			rows.Close()
			return n, fmt.Errorf("retention %s: blocks: %w", dataset, err)
		}
		gone = append(gone, blk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("retention %s: blocks: %w", dataset, err)
	}

	for _, blk := range gone {
		if err := s.files.remove(blk); err != nil {
			return n, fmt.Errorf("retention %s: %w", dataset, err)
		}
	}
	return n, nil
}

// Datasets lists the datasets that have events, with their counts.
func (s *Store) Datasets(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT dataset, count(*) FROM events GROUP BY dataset`)
	if err != nil {
		return nil, fmt.Errorf("datasets: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var d string
		var n int64
		if err := rows.Scan(&d, &n); err != nil {
			return nil, fmt.Errorf("datasets: %w", err)
		}
		out[d] = n
	}
	return out, rows.Err()
}
