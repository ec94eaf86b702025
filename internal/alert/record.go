package alert

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"time"

	"github.com/mamori-sec/mamori/internal/store"
)

// Store is what alerts need of the store; *store.Store implements it.
type Store interface {
	SaveAlerts(ctx context.Context, w store.AlertWrite) error
	GetAlert(ctx context.Context, id string) (store.AlertRecord, bool, error)
	ListAlerts(ctx context.Context, f store.AlertFilter) ([]store.AlertRecord, error)
	AlertsForGroups(ctx context.Context, groupHashes []string, since time.Time) ([]store.AlertRecord, error)
	AlertGroupHashes(ctx context.Context) ([]string, error)
	LatestOutbox(ctx context.Context, alertIDs []string) (map[string]map[string]store.OutboxRecord, error)
	AlertOutbox(ctx context.Context, alertID string) ([]store.OutboxRecord, error)
	DueOutbox(ctx context.Context, notifier string, now time.Time, limit int) ([]store.OutboxRecord, error)
	MarkOutboxSent(ctx context.Context, id string, at time.Time) error
	MarkOutboxRetry(ctx context.Context, id string, attempts int, due time.Time, lastErr string) error
	MarkOutboxFailed(ctx context.Context, id string, attempts int, at time.Time, lastErr string) error
	OutboxPendingCounts(ctx context.Context) (map[string]int64, error)
	PruneOutbox(ctx context.Context, cutoff time.Time) (int64, error)
}

var _ Store = (*store.Store)(nil)

// groupHash identifies a rule and group key in the store. The values are
// length-prefixed so that ["a b", "c"] and ["a", "b c"] differ.
func groupHash(ruleID string, key []string) string {
	h := sha256.New()
	write := func(s string) {
		var n [8]byte
		for i, l := 0, uint64(len(s)); i < 8; i++ {
			n[i] = byte(l >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(s))
	}
	write(ruleID)
	for _, k := range key {
		write(k)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// stormHash identifies a rule's storm alerts in the store. The prefix keeps
// it apart from every groupHash, which is hex.
func stormHash(ruleID string) string { return "storm-" + groupHash(ruleID, nil) }

// alertHash is the group hash an alert is stored under.
func alertHash(a *Alert) string {
	if a.Storm {
		return stormHash(a.RuleID)
	}
	return groupHash(a.RuleID, a.GroupKey)
}

// hashKey shortens a group hash for the manager's set of known groups. Two
// hashes that share a key only cost a needless read.
func hashKey(h string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(h))
	return f.Sum64()
}

func toRecord(a *Alert) store.AlertRecord {
	return store.AlertRecord{
		ID: a.ID, RuleID: a.RuleID, RuleTitle: a.RuleTitle, Severity: string(a.Severity), Title: a.Title,
		Summary: a.Summary, Dataset: a.Dataset, Correlation: a.Correlation, GroupHash: alertHash(a),
		GroupKey: a.GroupKey, FirstSeen: a.FirstSeen, LastSeen: a.LastSeen, EventCount: a.EventCount,
		MatchCount: a.MatchCount, EventIDs: a.EventIDs, Status: string(a.Status), AcknowledgedBy: a.AcknowledgedBy,
		AcknowledgedAt: a.AcknowledgedAt, ResolvedBy: a.ResolvedBy, ResolvedAt: a.ResolvedAt, Version: a.Version,
		Created: a.Created, Updated: a.Updated, Storm: a.Storm, StormGroups: a.StormGroups,
	}
}

func fromRecord(r store.AlertRecord) Alert {
	return Alert{
		ID: r.ID, RuleID: r.RuleID, RuleTitle: r.RuleTitle, Severity: Severity(r.Severity), Title: r.Title,
		Summary: r.Summary, Dataset: r.Dataset, Correlation: r.Correlation, GroupKey: r.GroupKey,
		FirstSeen: r.FirstSeen, LastSeen: r.LastSeen, EventCount: r.EventCount, MatchCount: r.MatchCount,
		EventIDs: r.EventIDs, Status: Status(r.Status), AcknowledgedBy: r.AcknowledgedBy,
		AcknowledgedAt: r.AcknowledgedAt, ResolvedBy: r.ResolvedBy, ResolvedAt: r.ResolvedAt, Version: r.Version,
		Created: r.Created, Updated: r.Updated, Storm: r.Storm, StormGroups: r.StormGroups,
	}
}
