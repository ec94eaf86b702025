package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// AlertsDDL creates the alerts table. Group keys and event ids are JSON
// arrays in VARCHAR columns: they are only ever read and written whole.
// Columns added after the first release come last, by ALTER TABLE, so that
// old and new databases have the same column order (the appender writes
// rows in it). DuckDB cannot add a column with a NOT NULL constraint;
// mamori always writes these.
const AlertsDDL = `CREATE TABLE IF NOT EXISTS alerts (
	id VARCHAR PRIMARY KEY,
	rule_id VARCHAR NOT NULL,
	rule_title VARCHAR NOT NULL,
	severity VARCHAR NOT NULL,
	title VARCHAR NOT NULL,
	summary VARCHAR NOT NULL,
	dataset VARCHAR NOT NULL,
	correlation BOOLEAN NOT NULL,
	group_hash VARCHAR NOT NULL,
	group_key VARCHAR NOT NULL,
	first_seen TIMESTAMP NOT NULL,
	last_seen TIMESTAMP NOT NULL,
	event_count BIGINT NOT NULL,
	match_count BIGINT NOT NULL,
	event_ids VARCHAR NOT NULL,
	status VARCHAR NOT NULL,
	acknowledged_by VARCHAR,
	acknowledged_at TIMESTAMP,
	resolved_by VARCHAR,
	resolved_at TIMESTAMP,
	version BIGINT NOT NULL,
	created TIMESTAMP NOT NULL,
	updated TIMESTAMP NOT NULL
);
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS storm BOOLEAN DEFAULT false;
ALTER TABLE alerts ADD COLUMN IF NOT EXISTS storm_groups BIGINT DEFAULT 0`

// OutboxDDL creates the notification outbox: one row per alert, notifier
// and alert version to deliver. Rows are written in the transaction that
// writes the alert, so nothing is notified that is not stored, and nothing
// stored is left unnotified.
const OutboxDDL = `CREATE TABLE IF NOT EXISTS alert_outbox (
	id VARCHAR PRIMARY KEY,
	alert_id VARCHAR NOT NULL,
	notifier VARCHAR NOT NULL,
	version BIGINT NOT NULL,
	kind VARCHAR NOT NULL,
	payload VARCHAR NOT NULL,
	event_count BIGINT NOT NULL,
	created TIMESTAMP NOT NULL,
	due TIMESTAMP NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	state VARCHAR NOT NULL,
	last_error VARCHAR,
	done_at TIMESTAMP
)`

// Outbox row states.
const (
	OutboxPending    = "pending"    // to send when due
	OutboxSent       = "sent"       // delivered; never sent again
	OutboxFailed     = "failed"     // refused for good, or given up on
	OutboxSuperseded = "superseded" // an update replaced by a later update before it was sent
)

// ErrAlertConflict is returned when an alert to update is no longer at the
// version it was read at.
var ErrAlertConflict = errors.New("alert changed since it was read")

// AlertRecord is one row of the alerts table. Times are UTC; a zero
// AcknowledgedAt or ResolvedAt is NULL.
type AlertRecord struct {
	ID, RuleID, RuleTitle, Severity, Title, Summary, Dataset string
	Correlation                                              bool
	GroupHash                                                string
	GroupKey                                                 []string
	FirstSeen, LastSeen                                      time.Time
	EventCount, MatchCount                                   int64
	EventIDs                                                 []string
	Status                                                   string
	AcknowledgedBy                                           string
	AcknowledgedAt                                           time.Time
	ResolvedBy                                               string
	ResolvedAt                                               time.Time
	Version                                                  int64
	Created, Updated                                         time.Time
	// Storm marks the alert that holds a rule's matches during an alert
	// storm; StormGroups counts the group keys folded into it.
	Storm       bool
	StormGroups int64
}

// OutboxRecord is one row of the outbox.
type OutboxRecord struct {
	ID       string // also the receiver's idempotency key
	AlertID  string
	Notifier string
	Version  int64 // the alert's version this row notifies
	Kind     string
	Payload  []byte // the alert at Version, as the caller serialised it
	// EventCount is the alert's event count at Version.
	EventCount int64
	Created    time.Time
	Due        time.Time
	Attempts   int
	State      string
	LastError  string
	DoneAt     time.Time
	// NotifiedCount is the largest EventCount among the rows of the same
	// alert and notifier already sent (DueOutbox fills it): what the
	// receiver has been told so far.
	NotifiedCount int64
}

// AlertWrite is one transaction of alert changes.
type AlertWrite struct {
	// Insert adds new alerts.
	Insert []AlertRecord
	// Update replaces stored alerts; each must be stored at Version-1, else
	// nothing is written and ErrAlertConflict is returned.
	Update []AlertRecord
	// Outbox adds notifications to send (State defaults to pending).
	Outbox []OutboxRecord
	// Supersede marks these pending outbox rows superseded.
	Supersede []string
}

const alertColumns = `id, rule_id, rule_title, severity, title, summary, dataset, correlation, group_hash, group_key,
	first_seen, last_seen, event_count, match_count, event_ids, status, acknowledged_by, acknowledged_at,
	resolved_by, resolved_at, version, created, updated, storm, storm_groups`

// SaveAlerts writes alerts and their notifications in one transaction.
// New rows go through DuckDB's appender and a changed alert is replaced
// whole: row-at-a-time INSERTs and UPDATEs cost a millisecond each.
func (s *Store) SaveAlerts(ctx context.Context, w AlertWrite) error {
	alertRows := make([][]driver.Value, 0, len(w.Insert)+len(w.Update))
	updateIDs := make([]string, 0, len(w.Update))
	for _, list := range [][]AlertRecord{w.Insert, w.Update} {
		for _, a := range list {
			row, err := alertRow(a)
			if err != nil {
				return fmt.Errorf("save alert %s: %w", a.ID, err)
			}
			alertRows = append(alertRows, row)
		}
	}
	for _, a := range w.Update {
		updateIDs = append(updateIDs, a.ID)
	}
	outboxRows := make([][]driver.Value, 0, len(w.Outbox))
	for _, o := range w.Outbox {
		state := o.State
		if state == "" {
			state = OutboxPending
		}
		outboxRows = append(outboxRows, []driver.Value{o.ID, o.AlertID, o.Notifier, o.Version, o.Kind, string(o.Payload),
			o.EventCount, o.Created.UTC(), o.Due.UTC(), int32(o.Attempts), state, nullValue(o.LastError), nullTimeValue(o.DoneAt)})
	}

	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("save alerts: conn: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return fmt.Errorf("save alerts: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			// Roll back on a fresh context: the caller's may be cancelled.
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK")
		}
	}()

	if len(w.Update) > 0 {
		stored := map[string]int64{}
		rows, err := conn.QueryContext(ctx, `SELECT id, version FROM alerts WHERE list_contains(?, id)`, updateIDs)
		if err != nil {
			return fmt.Errorf("save alerts: read versions: %w", err)
		}
		for rows.Next() {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return fmt.Errorf("save alerts: read versions: %w", err)
			}
			stored[id] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("save alerts: read versions: %w", err)
		}
		for _, a := range w.Update {
			if v, ok := stored[a.ID]; !ok || v != a.Version-1 {
				return fmt.Errorf("update alert %s to version %d: %w", a.ID, a.Version, ErrAlertConflict)
			}
		}
		if _, err := conn.ExecContext(ctx, `DELETE FROM alerts WHERE list_contains(?, id)`, updateIDs); err != nil {
			return fmt.Errorf("save alerts: replace: %w", err)
		}
	}
	if len(w.Supersede) > 0 {
		if _, err := conn.ExecContext(ctx, `UPDATE alert_outbox SET state = ? WHERE list_contains(?, id) AND state = ?`,
			OutboxSuperseded, w.Supersede, OutboxPending); err != nil {
			return fmt.Errorf("save alerts: supersede notifications: %w", err)
		}
	}
	if err := appendRows(conn, "alerts", alertRows); err != nil {
		return fmt.Errorf("save alerts: %w", err)
	}
	if err := appendRows(conn, "alert_outbox", outboxRows); err != nil {
		return fmt.Errorf("save alerts: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "COMMIT"); err != nil {
		return fmt.Errorf("save alerts: commit: %w", err)
	}
	committed = true
	return nil
}

// alertRow is the row of a in the table's column order.
func alertRow(a AlertRecord) ([]driver.Value, error) {
	key, err := json.Marshal(nonNil(a.GroupKey))
	if err != nil {
		return nil, fmt.Errorf("group key: %w", err)
	}
	ids, err := json.Marshal(nonNil(a.EventIDs))
	if err != nil {
		return nil, fmt.Errorf("event ids: %w", err)
	}
	return []driver.Value{a.ID, a.RuleID, a.RuleTitle, a.Severity, a.Title, a.Summary, a.Dataset, a.Correlation,
		a.GroupHash, string(key), a.FirstSeen.UTC(), a.LastSeen.UTC(), a.EventCount, a.MatchCount, string(ids), a.Status,
		nullValue(a.AcknowledgedBy), nullTimeValue(a.AcknowledgedAt), nullValue(a.ResolvedBy), nullTimeValue(a.ResolvedAt),
		a.Version, a.Created.UTC(), a.Updated.UTC(), a.Storm, a.StormGroups}, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullValue(s string) driver.Value {
	if s == "" {
		return nil
	}
	return s
}

func nullTimeValue(t time.Time) driver.Value {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

type rowScanner interface{ Scan(dest ...any) error }

func scanAlert(r rowScanner) (AlertRecord, error) {
	var a AlertRecord
	var key, ids string
	var ackBy, resBy sql.NullString
	var ackAt, resAt sql.NullTime
	var storm sql.NullBool
	var stormGroups sql.NullInt64
	if err := r.Scan(&a.ID, &a.RuleID, &a.RuleTitle, &a.Severity, &a.Title, &a.Summary, &a.Dataset, &a.Correlation,
		&a.GroupHash, &key, &a.FirstSeen, &a.LastSeen, &a.EventCount, &a.MatchCount, &ids, &a.Status,
		&ackBy, &ackAt, &resBy, &resAt, &a.Version, &a.Created, &a.Updated, &storm, &stormGroups); err != nil {
		return a, err
	}
	a.Storm, a.StormGroups = storm.Bool, stormGroups.Int64
	if err := json.Unmarshal([]byte(key), &a.GroupKey); err != nil {
		return a, fmt.Errorf("alert %s group key: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(ids), &a.EventIDs); err != nil {
		return a, fmt.Errorf("alert %s event ids: %w", a.ID, err)
	}
	a.AcknowledgedBy, a.AcknowledgedAt = ackBy.String, ackAt.Time
	a.ResolvedBy, a.ResolvedAt = resBy.String, resAt.Time
	return a, nil
}

func (s *Store) queryAlerts(ctx context.Context, what, where string, args ...any) ([]AlertRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []AlertRecord
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// GetAlert returns the alert with this id; found is false when there is none.
func (s *Store) GetAlert(ctx context.Context, id string) (a AlertRecord, found bool, err error) {
	list, err := s.queryAlerts(ctx, "get alert "+id, `WHERE id = ?`, id)
	if err != nil || len(list) == 0 {
		return AlertRecord{}, false, err
	}
	return list[0], true, nil
}

// AlertResolved is the status of a closed alert; the other statuses are the
// alert package's business.
const AlertResolved = "resolved"

// AlertsForGroups returns the alerts of the given group hashes (each names
// a rule and a group key) that are not resolved, or that were last seen at
// or after since, newest first: the alerts new matches of those groups may
// join or repeat. One query serves a whole batch of matches.
func (s *Store) AlertsForGroups(ctx context.Context, groupHashes []string, since time.Time) ([]AlertRecord, error) {
	if len(groupHashes) == 0 {
		return nil, nil
	}
	return s.queryAlerts(ctx, "alerts of groups",
		`WHERE list_contains(?, group_hash) AND (status <> ? OR last_seen >= ?) ORDER BY last_seen DESC, id DESC`,
		groupHashes, AlertResolved, since.UTC())
}

// AlertGroupHashes returns the group hash of every stored alert, each
// once: a caller that knows them all needs no read to learn that a group
// has no alert yet.
func (s *Store) AlertGroupHashes(ctx context.Context) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT group_hash FROM alerts`)
	if err != nil {
		return nil, fmt.Errorf("alert groups: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("alert groups: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("alert groups: %w", err)
	}
	return out, nil
}

// AlertFilter selects alerts for ListAlerts. Zero fields do not filter.
type AlertFilter struct {
	Statuses []string
	// Since and Until bound last_seen: Since <= last_seen < Until.
	Since, Until time.Time
	RuleID       string
	Severities   []string
	Limit        int // default 100
	Offset       int
}

// ListAlerts returns alerts, most recently seen first.
func (s *Store) ListAlerts(ctx context.Context, f AlertFilter) ([]AlertRecord, error) {
	var conds []string
	var args []any
	if len(f.Statuses) > 0 {
		conds = append(conds, `list_contains(?, status)`)
		args = append(args, f.Statuses)
	}
	if len(f.Severities) > 0 {
		conds = append(conds, `list_contains(?, severity)`)
		args = append(args, f.Severities)
	}
	if !f.Since.IsZero() {
		conds = append(conds, `last_seen >= ?`)
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		conds = append(conds, `last_seen < ?`)
		args = append(args, f.Until.UTC())
	}
	if f.RuleID != "" {
		conds = append(conds, `rule_id = ?`)
		args = append(args, f.RuleID)
	}
	where := ""
	if len(conds) > 0 {
		where = "WHERE " + strings.Join(conds, " AND ")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	args = append(args, limit, max(f.Offset, 0))
	return s.queryAlerts(ctx, "list alerts", where+` ORDER BY last_seen DESC, id DESC LIMIT ? OFFSET ?`, args...)
}

const outboxColumns = `id, alert_id, notifier, version, kind, payload, event_count, created, due, attempts, state,
	last_error, done_at`

func scanOutbox(r rowScanner, extra ...any) (OutboxRecord, error) {
	var o OutboxRecord
	var payload string
	var lastErr sql.NullString
	var done sql.NullTime
	dest := append([]any{&o.ID, &o.AlertID, &o.Notifier, &o.Version, &o.Kind, &payload, &o.EventCount, &o.Created,
		&o.Due, &o.Attempts, &o.State, &lastErr, &done}, extra...)
	if err := r.Scan(dest...); err != nil {
		return o, err
	}
	o.Payload = []byte(payload)
	o.LastError, o.DoneAt = lastErr.String, done.Time
	return o, nil
}

// LatestOutbox returns the newest outbox row of each alert and notifier,
// by alert id and then notifier.
func (s *Store) LatestOutbox(ctx context.Context, alertIDs []string) (map[string]map[string]OutboxRecord, error) {
	out := map[string]map[string]OutboxRecord{}
	if len(alertIDs) == 0 {
		return out, nil
	}
	rows, err := s.queryOutbox(ctx, "latest notifications", ``, `WHERE list_contains(?, alert_id)
		QUALIFY row_number() OVER (PARTITION BY alert_id, notifier ORDER BY version DESC) = 1`, alertIDs)
	if err != nil {
		return nil, err
	}
	for _, o := range rows {
		if out[o.AlertID] == nil {
			out[o.AlertID] = map[string]OutboxRecord{}
		}
		out[o.AlertID][o.Notifier] = o
	}
	return out, nil
}

// AlertOutbox returns every outbox row of an alert, oldest version first.
func (s *Store) AlertOutbox(ctx context.Context, alertID string) ([]OutboxRecord, error) {
	return s.queryOutbox(ctx, "notifications of "+alertID, ``,
		`WHERE alert_id = ? ORDER BY version, notifier`, alertID)
}

func (s *Store) queryOutbox(ctx context.Context, what, extraCols, where string, args ...any) ([]OutboxRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+outboxColumns+extraCols+` FROM alert_outbox o `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	var out []OutboxRecord
	for rows.Next() {
		var extra []any
		var notified int64
		if extraCols != "" {
			extra = append(extra, &notified)
		}
		o, err := scanOutbox(rows, extra...)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		o.NotifiedCount = notified
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// DueOutbox returns up to limit pending rows of a notifier that are due at
// now, each the oldest pending version of its alert, so that one alert's
// notifications reach a receiver in order (a resolve never before its
// trigger). Rows come oldest due first, with NotifiedCount filled.
func (s *Store) DueOutbox(ctx context.Context, notifier string, now time.Time, limit int) ([]OutboxRecord, error) {
	return s.queryOutbox(ctx, "due notifications for "+notifier,
		`, coalesce((SELECT max(s.event_count) FROM alert_outbox s WHERE s.alert_id = o.alert_id
			AND s.notifier = o.notifier AND s.state = 'sent'), 0)`,
		`WHERE o.notifier = ? AND o.state = ? AND o.due <= ?
		AND NOT EXISTS (SELECT 1 FROM alert_outbox p WHERE p.alert_id = o.alert_id AND p.notifier = o.notifier
			AND p.state = ? AND p.version < o.version)
		ORDER BY o.due, o.id LIMIT ?`,
		notifier, OutboxPending, now.UTC(), OutboxPending, limit)
}

// markOutbox runs one UPDATE of the outbox under the write lock.
func (s *Store) markOutbox(ctx context.Context, what, set string, args ...any) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.db.ExecContext(ctx, `UPDATE alert_outbox SET `+set, args...); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// MarkOutboxSent records a row as delivered. A row superseded while it was
// being sent is marked sent too: the receiver has it.
func (s *Store) MarkOutboxSent(ctx context.Context, id string, at time.Time) error {
	return s.markOutbox(ctx, "mark notification "+id+" sent",
		`state = ?, done_at = ?, last_error = NULL WHERE id = ? AND state IN (?, ?)`,
		OutboxSent, at.UTC(), id, OutboxPending, OutboxSuperseded)
}

// MarkOutboxRetry records a failed attempt and when to try again.
func (s *Store) MarkOutboxRetry(ctx context.Context, id string, attempts int, due time.Time, lastErr string) error {
	return s.markOutbox(ctx, "reschedule notification "+id,
		`attempts = ?, due = ?, last_error = ? WHERE id = ? AND state = ?`,
		attempts, due.UTC(), lastErr, id, OutboxPending)
}

// MarkOutboxFailed records that a row will not be delivered.
func (s *Store) MarkOutboxFailed(ctx context.Context, id string, attempts int, at time.Time, lastErr string) error {
	return s.markOutbox(ctx, "fail notification "+id,
		`state = ?, attempts = ?, done_at = ?, last_error = ? WHERE id = ? AND state = ?`,
		OutboxFailed, attempts, at.UTC(), lastErr, id, OutboxPending)
}

// OutboxPendingCounts counts pending rows per notifier.
func (s *Store) OutboxPendingCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT notifier, count(*) FROM alert_outbox WHERE state = ? GROUP BY notifier`, OutboxPending)
	if err != nil {
		return nil, fmt.Errorf("pending notifications: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			return nil, fmt.Errorf("pending notifications: %w", err)
		}
		out[name] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pending notifications: %w", err)
	}
	return out, nil
}

// PruneOutbox deletes rows that are done (sent, failed or superseded) and
// were created before cutoff, and reports how many. The newest row and the
// newest sent row of each alert and notifier stay: they say whether the
// receiver has been told of the alert and how much (an update to an alert
// whose rows were all gone would page again as new).
func (s *Store) PruneOutbox(ctx context.Context, cutoff time.Time) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	res, err := s.db.ExecContext(ctx, `DELETE FROM alert_outbox WHERE state <> ? AND created < ?
		AND id NOT IN (SELECT id FROM alert_outbox
			QUALIFY row_number() OVER (PARTITION BY alert_id, notifier ORDER BY version DESC) = 1)
		AND id NOT IN (SELECT id FROM alert_outbox WHERE state = ?
			QUALIFY row_number() OVER (PARTITION BY alert_id, notifier ORDER BY version DESC) = 1)`,
		OutboxPending, cutoff.UTC(), OutboxSent)
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	return n, nil
}
