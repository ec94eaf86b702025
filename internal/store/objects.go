package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Object is an archive object known to the store, with how far it has been
// processed.
type Object struct {
	Key         string
	Dataset     string
	Size        int64
	Created     time.Time
	DoneRecords int64
	Finished    bool
	Events      int64
	Failures    int64
}

// AddObject records a new archive object to process. Adding a key that is
// already known changes nothing and reports false.
func (s *Store) AddObject(ctx context.Context, o Object) (bool, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx,
		`INSERT INTO objects (key, dataset, size, created) VALUES (?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
		o.Key, o.Dataset, o.Size, o.Created.UTC())
	if err != nil {
		return false, fmt.Errorf("add object %s: %w", o.Key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add object %s: %w", o.Key, err)
	}
	return n > 0, nil
}

// GetObject returns the object's state; found is false for an unknown key.
func (s *Store) GetObject(ctx context.Context, key string) (o Object, found bool, err error) {
	row := s.db.QueryRowContext(ctx,
		`SELECT key, dataset, size, created, done_records, finished, events, failures FROM objects WHERE key = ?`, key)
	err = row.Scan(&o.Key, &o.Dataset, &o.Size, &o.Created, &o.DoneRecords, &o.Finished, &o.Events, &o.Failures)
	if errors.Is(err, sql.ErrNoRows) {
		return Object{}, false, nil
	}
	if err != nil {
		return Object{}, false, fmt.Errorf("get object %s: %w", key, err)
	}
	return o, true, nil
}

// PendingObjects returns the objects not yet fully processed, oldest first.
func (s *Store) PendingObjects(ctx context.Context, limit int) ([]Object, error) {
	rows, err := s.db.QueryContext(ctx,
		`SELECT key, dataset, size, created, done_records, finished, events, failures
		 FROM objects WHERE NOT finished ORDER BY created, key LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending objects: %w", err)
	}
	defer rows.Close()
	var out []Object
	for rows.Next() {
		var o Object
		if err := rows.Scan(&o.Key, &o.Dataset, &o.Size, &o.Created, &o.DoneRecords, &o.Finished, &o.Events, &o.Failures); err != nil {
			return nil, fmt.Errorf("pending objects: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// KnownKeys reports which of keys the store already knows.
func (s *Store) KnownKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	known := make(map[string]bool, len(keys))
	if len(keys) == 0 {
		return known, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM objects WHERE list_contains(?, key)`, keys)
	if err != nil {
		return nil, fmt.Errorf("known keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("known keys: %w", err)
		}
		known[k] = true
	}
	return known, rows.Err()
}

// QueueDepth counts objects waiting to be processed and their bytes.
func (s *Store) QueueDepth(ctx context.Context) (objects int64, bytes int64, err error) {
	err = s.db.QueryRowContext(ctx,
		`SELECT count(*), coalesce(sum(size), 0) FROM objects WHERE NOT finished`).Scan(&objects, &bytes)
	if err != nil {
		return 0, 0, fmt.Errorf("queue depth: %w", err)
	}
	return objects, bytes, nil
}

// OldestPending returns the creation time of the oldest unprocessed object,
// or the zero time when the queue is empty: the processing lag.
func (s *Store) OldestPending(ctx context.Context) (time.Time, error) {
	var t sql.NullTime
	if err := s.db.QueryRowContext(ctx, `SELECT min(created) FROM objects WHERE NOT finished`).Scan(&t); err != nil {
		return time.Time{}, fmt.Errorf("oldest pending: %w", err)
	}
	return t.Time, nil
}
