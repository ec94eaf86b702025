package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// oldDatabase makes a database file whose events table is created by ddl
// (an earlier schema) and runs the statements in it.
func oldDatabase(t *testing.T, ddl string, stmts ...func(db *sql.DB) error) string {
	t.Helper()
	if ddl == EventsDDL {
		t.Fatal("could not make the old schema")
	}
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ddl); err != nil {
		t.Fatal(err)
	}
	for _, f := range stmts {
		if err := f(db); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// commitAfterMigration checks that a batch commits into a migrated store.
func commitAfterMigration(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	key := "raw/syslog/old"
	mustAddObject(t, s, Object{Key: key, Dataset: "syslog", Created: t0})
	b := testBlock(key, 0, 3, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 3, Events: 3, At: t0}, []Block{b}); err != nil {
		t.Fatalf("commit after the migration: %v", err)
	}
}

// TestOpenDropsRelatedHashColumn opens a database made when related.hash
// was a promoted column: the column goes, and batches commit as before.
func TestOpenDropsRelatedHashColumn(t *testing.T) {
	ctx := context.Background()
	path := oldDatabase(t, strings.Replace(EventsDDL, "related_hosts VARCHAR[],", "related_hosts VARCHAR[],\n\trelated_hash VARCHAR[],", 1))
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events' AND column_name = 'related_hash'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("related_hash columns after Open: %d (%v)", n, err)
	}
	commitAfterMigration(t, s)
}

// TestOpenFillsV4ColumnsOfOldEvents opens a database made before the V4
// columns: they are added after sub and filled from the IP columns, for
// IPv4 addresses only, and new batches commit as before.
func TestOpenFillsV4ColumnsOfOldEvents(t *testing.T) {
	ctx := context.Background()
	path := oldDatabase(t, strings.Replace(EventsDDL, "sub INTEGER NOT NULL,\n\tsource_ip4 UINTEGER,\n\tdestination_ip4 UINTEGER", "sub INTEGER NOT NULL", 1),
		func(db *sql.DB) error {
			for i, ip := range []any{"198.51.100.7", "2001:db8::1", nil, "10.0.0.255"} {
				if _, err := db.Exec(`INSERT INTO events (ts, dataset, source_ip, destination_ip, blk, off, sub) VALUES (?, 'syslog', ?, ?, 1, ?, 0)`,
					t0, ip, ip, i); err != nil {
					return err
				}
			}
			return nil
		})
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rows, err := s.db.QueryContext(ctx, `SELECT source_ip4, destination_ip4 FROM events ORDER BY off`)
	if err != nil {
		t.Fatal(err)
	}
	var got []any
	for rows.Next() {
		var src, dst sql.NullInt64
		if err := rows.Scan(&src, &dst); err != nil {
			t.Fatal(err)
		}
		if src != dst {
			t.Errorf("source %v, destination %v from the same address", src, dst)
		}
		if src.Valid {
			got = append(got, src.Int64)
		} else {
			got = append(got, nil)
		}
	}
	rows.Close()
	want := []any{int64(198<<24 | 51<<16 | 100<<8 | 7), nil, nil, int64(10<<24 | 255)}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("V4 values after Open = %v, want %v", got, want)
	}
	commitAfterMigration(t, s)
	n, err := s.Count(ctx, RowQuery{Where: "source_ip4 = ?", Args: []any{uint32(192<<24 | 2<<8 | 1)}})
	if err != nil || n != 3 {
		t.Errorf("new events with source 192.0.2.1 by their V4 column: %d (%v), want 3", n, err)
	}
}
