package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
)

// TestOpenDropsRelatedHashColumn opens a database made when related.hash
// was a promoted column: the column goes, and batches commit as before.
func TestOpenDropsRelatedHashColumn(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	old := strings.Replace(EventsDDL, "related_hosts VARCHAR[],", "related_hosts VARCHAR[],\n\trelated_hash VARCHAR[],", 1)
	if old == EventsDDL {
		t.Fatal("could not make the old schema")
	}
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(old); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE table_name = 'events' AND column_name = 'related_hash'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("related_hash columns after Open: %d (%v)", n, err)
	}
	key := "raw/syslog/old"
	if _, err := s.AddObject(ctx, Object{Key: key, Dataset: "syslog", Created: t0}); err != nil {
		t.Fatal(err)
	}
	b := testBlock(key, 0, 3, func(i int) time.Time { return t0.Add(time.Duration(i) * time.Second) })
	if err := s.CommitBatch(ctx, 0, Progress{Key: key, DoneRecords: 3, Events: 3, At: t0}, []Block{b}); err != nil {
		t.Fatalf("commit after the migration: %v", err)
	}
}
