package store

import (
	"bytes"
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/mamori-sec/mamori/internal/event"
)

// Progress is what a committed batch says about its object.
type Progress struct {
	Key         string
	DoneRecords int64 // records of the object processed after this batch
	Finished    bool  // the object has no records left
	Events      int64 // events in this batch
	Failures    int64 // records of this batch that failed to parse
	At          time.Time
}

// ErrStale is returned when a batch's progress does not follow on from the
// stored progress: another worker, or an earlier run, got there first.
var ErrStale = errors.New("batch does not follow the stored progress")

// CommitBatch appends events and records the object's progress in one
// transaction. fromRecord is the object's done_records the batch was read
// from; if the stored value differs, nothing is written and ErrStale is
// returned, so a batch can never be stored twice.
func (s *Store) CommitBatch(ctx context.Context, fromRecord int64, p Progress, events []*event.Event) error {
	rows, err := buildRows(events)
	if err != nil {
		return err
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("commit %s: conn: %w", p.Key, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("commit %s: begin: %w", p.Key, err)
	}
	committed := false
	defer func() {
		if !committed {
			// Roll back on a fresh context: the caller's may be cancelled.
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()

	var done int64
	var finished bool
	if err := conn.QueryRowContext(ctx, `SELECT done_records, finished FROM objects WHERE key = ?`, p.Key).Scan(&done, &finished); err != nil {
		return fmt.Errorf("commit %s: read progress: %w", p.Key, err)
	}
	if done != fromRecord || finished {
		return fmt.Errorf("commit %s: stored progress %d (finished %v), batch from %d: %w", p.Key, done, finished, fromRecord, ErrStale)
	}

	if len(rows) > 0 {
		err = conn.Raw(func(dc any) error {
			app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "events")
			if err != nil {
				return fmt.Errorf("appender: %w", err)
			}
			for i := range rows {
				if err := app.AppendRow(rows[i]...); err != nil {
					app.Close()
					return fmt.Errorf("append event %v: %w", rows[i][1], err)
				}
			}
			return app.Close()
		})
		if err != nil {
			return fmt.Errorf("commit %s: %w", p.Key, err)
		}
	}

	var finishedAt any
	if p.Finished {
		finishedAt = p.At.UTC()
	}
	if _, err := conn.ExecContext(ctx,
		`UPDATE objects SET done_records = ?, finished = ?, events = events + ?, failures = failures + ?, finished_at = ? WHERE key = ?`,
		p.DoneRecords, p.Finished, p.Events, p.Failures, finishedAt, p.Key); err != nil {
		return fmt.Errorf("commit %s: progress: %w", p.Key, err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("commit %s: %w", p.Key, err)
	}
	committed = true
	return nil
}

// row is one events-table row: the promoted columns then doc.
type row []driver.Value

// The doc column leaves out the fields that have columns of their own and
// that are large: the raw line and the message.
func skipInDoc(field string) bool {
	return field == event.FieldOriginal || field == event.FieldMessage
}

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// buildRows turns events into rows sorted by time, so that the table stays in
// time order within each batch and DuckDB's zone maps prune time ranges.
func buildRows(events []*event.Event) ([]row, error) {
	rows := make([]row, 0, len(events))
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	for _, e := range events {
		r := make(row, len(Columns)+1)
		for i, c := range Columns {
			r[i] = columnValue(e, c)
		}
		if r[0] == nil {
			return nil, fmt.Errorf("event %s has no @timestamp", e.String(event.FieldID))
		}
		if r[1] == nil || r[2] == nil {
			return nil, fmt.Errorf("event without id or dataset: %s", e.String(event.FieldID))
		}
		buf.Reset()
		if err := e.AppendJSON(buf, skipInDoc); err != nil {
			return nil, fmt.Errorf("event %s: %w", e.String(event.FieldID), err)
		}
		r[len(Columns)] = buf.String()
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		return rows[i][0].(time.Time).Before(rows[j][0].(time.Time))
	})
	return rows, nil
}

func columnValue(e *event.Event, c Column) driver.Value {
	v, ok := e.Get(c.Field)
	if !ok {
		return nil
	}
	switch c.Type {
	case Time:
		if t := e.Time(); !t.IsZero() {
			return t
		}
		return nil
	case Int:
		switch x := v.(type) {
		case int64:
			if x < -1<<31 || x > 1<<31-1 {
				return nil
			}
			return int32(x)
		case float64:
			return int32(x)
		}
		return nil
	case TextList, IPList:
		if l := e.Strings(c.Field); len(l) > 0 {
			return l
		}
		return nil
	default:
		if s := e.String(c.Field); s != "" {
			return s
		}
		return nil
	}
}
