package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// IngestedBlock is a block as it was committed: when, and how many events
// it holds.
type IngestedBlock struct {
	Blk      int64
	Ingested time.Time
	Events   int
}

// BlocksIngestedSince lists the blocks with events whose batch was
// processed at or after since (the blocks' ingested time, whatever their
// events' @timestamp), in the order they were committed. This is what the
// stream saw over that stretch: a replay after a crash needs it, since a
// batch of old-dated events stored just before the crash is as much at
// risk as a fresh one.
func (s *Store) BlocksIngestedSince(ctx context.Context, since time.Time) ([]IngestedBlock, error) {
	// Block ids are handed out in commit order (under writeMu).
	rows, err := s.db.QueryContext(ctx,
		`SELECT blk, ingested, events FROM blocks WHERE ingested >= ? AND events > 0 ORDER BY blk`, since.UTC())
	if err != nil {
		return nil, fmt.Errorf("blocks ingested since %s: %w", since.UTC().Format(time.RFC3339), err)
	}
	defer rows.Close()
	var out []IngestedBlock
	for rows.Next() {
		var b IngestedBlock
		if err := rows.Scan(&b.Blk, &b.Ingested, &b.Events); err != nil {
			return nil, fmt.Errorf("blocks ingested since %s: %w", since.UTC().Format(time.RFC3339), err)
		}
		b.Ingested = b.Ingested.UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// BlockEvents returns the positions of the events of blks, in the order
// they were committed (block, record offset, event position) rather than
// by time. With datasets set, only the events of those datasets are
// listed.
func (s *Store) BlockEvents(ctx context.Context, blks []int64, datasets []string) ([]Position, error) {
	if len(blks) == 0 {
		return nil, nil
	}
	var args []any
	// An IN list of constants lets DuckDB skip the row groups that cannot
	// hold these blocks (see RowQuery.filter).
	where := "blk IN (" + placeholders(len(blks)) + ")"
	for _, b := range blks {
		args = append(args, b)
	}
	if datasets != nil {
		if len(datasets) == 0 {
			return nil, nil
		}
		where += " AND dataset IN (" + placeholders(len(datasets)) + ")"
		for _, d := range datasets {
			args = append(args, d)
		}
	}
	rows, err := s.db.QueryContext(ctx, "SELECT ts, blk, off, sub FROM events WHERE "+where+" ORDER BY blk, off, sub", args...)
	if err != nil {
		return nil, fmt.Errorf("events of %d blocks: %w", len(blks), err)
	}
	defer rows.Close()
	var out []Position
	for rows.Next() {
		var p Position
		if err := rows.Scan(&p.TS, &p.Blk, &p.Off, &p.Sub); err != nil {
			return nil, fmt.Errorf("events of %d blocks: %w", len(blks), err)
		}
		p.TS = p.TS.UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

// placeholders is "?, ?, ..." for n parameters.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
