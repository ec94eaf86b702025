// Package store keeps events and processing state in an embedded DuckDB
// database, and commits each batch of events together with "this object is
// done up to record N" in one transaction, so that a crash at any point
// neither loses nor duplicates an event.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	duckdb "github.com/duckdb/duckdb-go/v2"
	"github.com/klauspost/compress/zstd"
)

// Store is the event store and the state database.
type Store struct {
	db   *sql.DB
	path string

	// writeMu serialises write transactions: DuckDB would otherwise abort
	// concurrent commits that touch the same rows of the objects table.
	writeMu sync.Mutex
	nextBlk int64 // the next block id; guarded by writeMu

	enc *zstd.Encoder // packs blocks' raw records; EncodeAll is concurrency-safe
	dec *zstd.Decoder

	files   blockFiles
	tempDir string // removed on Close: the block files of an in-memory store

	// arch reads blocks whose records stay in the archive; nil keeps a
	// copy of every block's records in its file.
	arch ArchiveReader

	index blockIndex // the blocks with events, for BlocksIn
}

// ArchiveReader reads byte ranges of archive objects (archive.Archive).
type ArchiveReader interface {
	ReadRange(ctx context.Context, key string, off, n int64) ([]byte, error)
}

// Options tunes Open.
type Options struct {
	// Functions registers scalar functions (such as ip_in_cidr for the query
	// language) on a connection; called once after opening.
	Functions func(ctx context.Context, conn *sql.Conn) error
	// MemoryLimit caps DuckDB's memory, e.g. "1GB"; empty leaves the default.
	MemoryLimit string
	// Threads caps DuckDB's worker threads; 0 leaves the default.
	Threads int
	// BlockDir holds the block files; default "blocks" beside the database
	// (a temporary directory for an in-memory store).
	BlockDir string
	// Archive, when set, lets blocks point at their records' frames in the
	// archive instead of keeping a copy (Block.Ref): half the bytes on
	// disk and no second compression of every record. Set it for a local
	// archive only: every search that re-derives events reads through it.
	Archive ArchiveReader
}

// Open opens (creating if needed) the database at path; "" opens an
// in-memory database, for tests and `mamori parse`.
func Open(ctx context.Context, path string, opts Options) (*Store, error) {
	if path != "" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store dir: %w", err)
		}
	}
	connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
		// A checkpoint rewrites and fsyncs table data; at DuckDB's default
		// 16 MB of WAL it ran after nearly every batch and dominated ingest.
		stmts := []string{"SET checkpoint_threshold = '512MB'"}
		if opts.MemoryLimit != "" {
			stmts = append(stmts, fmt.Sprintf("SET memory_limit = '%s'", sqlQuote(opts.MemoryLimit)))
		}
		if opts.Threads > 0 {
			stmts = append(stmts, fmt.Sprintf("SET threads = %d", opts.Threads))
		}
		for _, s := range stmts {
			if _, err := execer.ExecContext(ctx, s, nil); err != nil {
				return fmt.Errorf("%s: %w", s, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("open duckdb %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("zstd: %w", err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("zstd: %w", err)
	}
	s := &Store{db: db, path: path, enc: enc, dec: dec, arch: opts.Archive}
	switch {
	case opts.BlockDir != "":
		s.files.dir = opts.BlockDir
	case path != "":
		s.files.dir = filepath.Join(filepath.Dir(path), "blocks")
	default:
		if s.tempDir, err = os.MkdirTemp("", "mamori-blocks-"); err != nil {
			db.Close()
			return nil, fmt.Errorf("block dir: %w", err)
		}
		s.files.dir = s.tempDir
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(blk), 0) + 1 FROM blocks`).Scan(&s.nextBlk); err != nil {
		db.Close()
		return nil, fmt.Errorf("read block ids: %w", err)
	}
	// Files of blocks whose transaction never committed (a crash between
	// writing them and the commit) are left over: their ids are free again.
	if err := s.files.removeFrom(s.nextBlk); err != nil {
		db.Close()
		return nil, fmt.Errorf("clean block files: %w", err)
	}
	if opts.Functions != nil {
		conn, err := db.Conn(ctx)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("store conn: %w", err)
		}
		err = opts.Functions(ctx, conn)
		conn.Close()
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("register functions: %w", err)
		}
	}
	return s, nil
}

func sqlQuote(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// ObjectsDDL creates the state table: one row per archive object known to
// mamori, the durable queue of the embedded deployment.
const ObjectsDDL = `CREATE TABLE IF NOT EXISTS objects (
	key VARCHAR PRIMARY KEY,
	dataset VARCHAR NOT NULL,
	size BIGINT NOT NULL DEFAULT 0,
	created TIMESTAMP NOT NULL,
	done_records BIGINT NOT NULL DEFAULT 0,
	finished BOOLEAN NOT NULL DEFAULT false,
	events BIGINT NOT NULL DEFAULT 0,
	failures BIGINT NOT NULL DEFAULT 0,
	finished_at TIMESTAMP
)`

func (s *Store) migrate(ctx context.Context) error {
	for _, stmt := range []string{EventsDDL, BlocksDDL, ObjectsDDL,
		`CREATE TABLE IF NOT EXISTS meta (name VARCHAR PRIMARY KEY, value VARCHAR)`,
		// Added after the first release of the blocks table.
		`ALTER TABLE blocks ADD COLUMN IF NOT EXISTS header BLOB`,
		// Where a block's records are in the archive (Block.Ref); NULL when
		// the block file holds a copy. Added 2026-11-23.
		`ALTER TABLE blocks ADD COLUMN IF NOT EXISTS arch_off BIGINT`,
		`ALTER TABLE blocks ADD COLUMN IF NOT EXISTS arch_len BIGINT`,
		`ALTER TABLE blocks ADD COLUMN IF NOT EXISTS arch_first BIGINT`,
		// Set by retention on blocks that may have lost some of their
		// events (BlockInfo.Complete). Added 2026-11-23.
		`ALTER TABLE blocks ADD COLUMN IF NOT EXISTS trimmed BOOLEAN`,
		// related.hash was promoted until 2026-11-23 (see Columns).
		`ALTER TABLE events DROP COLUMN IF EXISTS related_hash`,
		// Alerts and their notification outbox (alerts.go).
		AlertsDDL, OutboxDDL,
	} {
		if _, err := s.db.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
	}
	return s.addV4Columns(ctx)
}

// addV4Columns adds the V4 columns (schema.go) to an events table made
// before them; the rows it had are filled from the IP columns once, so
// that CIDR queries on old events stay right.
func (s *Store) addV4Columns(ctx context.Context) error {
	for _, c := range V4Columns() {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events' AND column_name = ?`, c.V4).Scan(&n); err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if n > 0 {
			continue
		}
		// Names come from the fixed Columns table, never from input.
		if _, err := s.db.ExecContext(ctx, "ALTER TABLE events ADD COLUMN "+c.V4+" UINTEGER"); err != nil {
			return fmt.Errorf("migrate: add %s: %w", c.V4, err)
		}
		x := c.Name
		fill := "UPDATE events SET " + c.V4 + " = ((split_part(" + x + ", '.', 1)::UINTEGER << 24) | (split_part(" + x + ", '.', 2)::UINTEGER << 16) | " +
			"(split_part(" + x + ", '.', 3)::UINTEGER << 8) | split_part(" + x + ", '.', 4)::UINTEGER) WHERE regexp_full_match(" + x + ", '[0-9]{1,3}(\\.[0-9]{1,3}){3}')"
		if _, err := s.db.ExecContext(ctx, fill); err != nil {
			return fmt.Errorf("migrate: fill %s: %w", c.V4, err)
		}
	}
	return nil
}

// Close checkpoints and closes the database.
func (s *Store) Close() error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var errs []error
	if s.path != "" {
		if _, err := s.db.Exec("CHECKPOINT"); err != nil {
			errs = append(errs, fmt.Errorf("checkpoint: %w", err))
		}
	}
	if err := s.db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	s.enc.Close()
	s.dec.Close()
	if s.tempDir != "" {
		errs = append(errs, os.RemoveAll(s.tempDir))
	}
	return errors.Join(errs...)
}
