package alert

import (
	"fmt"
	"strings"
	"time"
)

// maxStormGroups bounds the group keys a storm remembers as folded into
// its alert. Past it, a folded group that matches again counts as a new
// group once more (the alert's count of groups then runs high).
const maxStormGroups = 100_000

// stormState is one rule's storm guard: when its recent new groups came,
// and which groups its storm alert holds.
type stormState struct {
	// seen holds the arrival (server clock) of the rule's latest new
	// groups, at most MaxNewAlerts of them, as a ring; next is the oldest.
	seen []time.Time
	next int
	// alertID is the storm alert whose folded groups are in groups.
	alertID string
	groups  map[uint64]struct{}
}

func newStormState(max int) *stormState { return &stormState{seen: make([]time.Time, 0, max)} }

// storming reports whether the rule saw max new groups within per before now.
func (s *stormState) storming(now time.Time, per time.Duration) bool {
	if len(s.seen) < cap(s.seen) {
		return false
	}
	return now.Sub(s.seen[s.next]) < per
}

// push records a new group at now.
func (s *stormState) push(now time.Time) {
	if len(s.seen) < cap(s.seen) {
		s.seen = append(s.seen, now)
		return
	}
	s.seen[s.next] = now
	s.next = (s.next + 1) % len(s.seen)
}

// holds reports whether the group was folded into the storm alert id.
func (s *stormState) holds(id string, key uint64) bool {
	if s.alertID != id {
		return false
	}
	_, ok := s.groups[key]
	return ok
}

// fold records the group as folded into the storm alert id, and reports
// whether it is new to it.
func (s *stormState) fold(id string, key uint64) bool {
	if s.alertID != id {
		s.alertID, s.groups = id, map[uint64]struct{}{}
	}
	if _, ok := s.groups[key]; ok {
		return false
	}
	if len(s.groups) < maxStormGroups {
		s.groups[key] = struct{}{}
	}
	return true
}

// stormFor returns the rule's storm state, made on first use. A process
// that starts while a storm alert of the rule was changed within per
// (a restart during a storm) starts in the storm, so that the replay at
// start folds the matches it folded before rather than raising their
// groups' alerts.
func (m *Manager) stormFor(rule string, sc StormConfig, sg *group, now time.Time) *stormState {
	if s := m.storms[rule]; s != nil {
		return s
	}
	s := newStormState(sc.MaxNewAlerts)
	for _, c := range sg.alerts {
		if c.a.Status != Resolved && now.Sub(c.a.Updated) < time.Duration(sc.Per) {
			for range sc.MaxNewAlerts {
				s.push(c.a.Updated)
			}
			break
		}
	}
	m.storms[rule] = s
	return s
}

// newStorm starts a storm alert for the rule of mt.
func (m *Manager) newStorm(mt *Match, sc StormConfig, now time.Time) (*cached, error) {
	c, err := m.newAlert(mt, now)
	if err != nil {
		return nil, err
	}
	a := &c.a
	a.Storm, a.GroupKey = true, []string{}
	a.Summary = fmt.Sprintf("More than %d new alerts of rule %s within %s: matches of its further new group keys "+
		"are counted in this alert rather than raising one each (the first: %s).",
		sc.MaxNewAlerts, mt.RuleID, time.Duration(sc.Per), strings.Join(mt.GroupKey, ", "))
	return c, nil
}

// stormTitle names a storm alert.
func stormTitle(a *Alert) string {
	groups := "groups"
	if a.StormGroups == 1 {
		groups = "group"
	}
	return fmt.Sprintf("rule %s: storm, %d %s suppressed", a.RuleID, a.StormGroups, groups)
}
