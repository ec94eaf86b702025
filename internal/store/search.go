package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// Search is one page of a search.
type Search struct {
	// Where is a parameterised SQL boolean expression over the events table
	// (from the query compiler) and Args its parameters; "" matches all.
	Where string
	Args  []any
	// From (inclusive) and To (exclusive) bound @timestamp; zero means open.
	From, To time.Time
	// Limit caps the page size (default 100, at most 10,000).
	Limit int
	// Asc orders oldest first; the default is newest first.
	Asc bool
	// Cursor continues a previous search (Result.Next).
	Cursor string
	// Count asks for the total number of matches as well.
	Count bool
}

// Result is a page of events.
type Result struct {
	Events []*event.Event
	// Next is the cursor for the following page, "" when this is the last.
	Next string
	// Total is the number of matching events, or -1 when not counted.
	Total int64
	Took  time.Duration
}

// ErrBadCursor is returned for a cursor that this store did not produce.
var ErrBadCursor = errors.New("invalid cursor")

const (
	defaultLimit = 100
	maxLimit     = 10000
)

type cursor struct {
	TS time.Time `json:"t"`
	ID string    `json:"i"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, ErrBadCursor
	}
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return c, ErrBadCursor
	}
	return c, nil
}

// Search runs one page of a search, ordered by (@timestamp, event.id).
func (s *Store) Search(ctx context.Context, q Search) (Result, error) {
	start := time.Now()
	limit := q.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	if limit > maxLimit {
		limit = maxLimit
	}
	where, args := s.filter(q)
	var pageWhere []string
	pageArgs := append([]any(nil), args...)
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return Result{}, err
		}
		op := "<"
		if q.Asc {
			op = ">"
		}
		pageWhere = append(pageWhere, fmt.Sprintf("(ts %s ? OR (ts = ? AND id %s ?))", op, op))
		pageArgs = append(pageArgs, c.TS, c.TS, c.ID)
	}
	dir := "DESC"
	if q.Asc {
		dir = "ASC"
	}
	sqlText := "SELECT " + selectList + " FROM events WHERE " + joinAnd(append([]string{where}, pageWhere...)) +
		" ORDER BY ts " + dir + ", id " + dir + " LIMIT ?"
	pageArgs = append(pageArgs, limit+1)
	rows, err := s.db.QueryContext(ctx, sqlText, pageArgs...)
	if err != nil {
		return Result{}, fmt.Errorf("search: %w", err)
	}
	defer rows.Close()
	res := Result{Total: -1}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return Result{}, fmt.Errorf("search: %w", err)
		}
		res.Events = append(res.Events, e)
	}
	if err := rows.Err(); err != nil {
		return Result{}, fmt.Errorf("search: %w", err)
	}
	if len(res.Events) > limit {
		res.Events = res.Events[:limit]
		last := res.Events[limit-1]
		res.Next = encodeCursor(cursor{TS: last.Time(), ID: last.String(event.FieldID)})
	}
	if q.Count {
		if q.Cursor == "" && res.Next == "" {
			res.Total = int64(len(res.Events))
		} else if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, args...).Scan(&res.Total); err != nil {
			return Result{}, fmt.Errorf("search count: %w", err)
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

// Count returns the number of events matching the search's filter and range.
func (s *Store) Count(ctx context.Context, q Search) (int64, error) {
	where, args := s.filter(q)
	var n int64
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM events WHERE "+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	return n, nil
}

func (s *Store) filter(q Search) (string, []any) {
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
	if q.Where != "" {
		parts = append(parts, "("+q.Where+")")
		args = append(args, q.Args...)
	}
	return joinAnd(parts), args
}

func joinAnd(parts []string) string {
	var nonEmpty []string
	for _, p := range parts {
		if p != "" {
			nonEmpty = append(nonEmpty, p)
		}
	}
	if len(nonEmpty) == 0 {
		return "TRUE"
	}
	return strings.Join(nonEmpty, " AND ")
}

const selectList = "ts, id, message, original, doc"

func scanEvent(rows *sql.Rows) (*event.Event, error) {
	var (
		ts                     time.Time
		id                     string
		message, original, doc sql.NullString
	)
	if err := rows.Scan(&ts, &id, &message, &original, &doc); err != nil {
		return nil, err
	}
	e := event.New(32)
	if doc.Valid && doc.String != "" {
		if err := e.UnmarshalJSON([]byte(doc.String)); err != nil {
			return nil, fmt.Errorf("event %s: %w", id, err)
		}
	}
	e.Set(event.FieldTimestamp, ts.UTC())
	e.Set(event.FieldID, id)
	if message.Valid {
		e.Set(event.FieldMessage, message.String)
	}
	if original.Valid {
		e.Set(event.FieldOriginal, original.String)
	}
	return e, nil
}

// DeleteBefore removes a dataset's events older than cutoff (retention).
func (s *Store) DeleteBefore(ctx context.Context, dataset string, cutoff time.Time) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE dataset = ? AND ts < ?`, dataset, cutoff.UTC())
	if err != nil {
		return 0, fmt.Errorf("retention %s: %w", dataset, err)
	}
	return res.RowsAffected()
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
