package mapping

import (
	"bytes"
	"regexp"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// lineRule is one entry of `lines:`. A record is claimed by the rule when
// every condition the rule gives holds: its syslog program is one of
// apps, its body starts with one of prefixes, contains one of contains,
// and matches re.
type lineRule struct {
	apps     []string
	prefixes [][]byte
	contains [][]byte
	re       *regexp.Regexp
}

func (r *lineRule) match(l dataset.Line) bool {
	if len(r.apps) > 0 && !containsString(r.apps, l.App) {
		return false
	}
	if len(r.prefixes) > 0 && !anyPrefix(l.Body, r.prefixes) {
		return false
	}
	if len(r.contains) > 0 && !anyContained(l.Body, r.contains) {
		return false
	}
	return r.re == nil || r.re.Match(l.Body)
}

// claimer is Dataset.Claim of a mapping: the record is claimed when any
// rule matches. A mapping that does not strip syslog headers claims only
// records that have none, since it could not parse the others.
type claimer struct {
	rules  []lineRule
	syslog bool
}

func (c *claimer) claim(l dataset.Line) bool {
	if !c.syslog && len(l.Body) != len(l.Data) {
		return false
	}
	for i := range c.rules {
		if c.rules[i].match(l) {
			return true
		}
	}
	return false
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func anyPrefix(b []byte, prefixes [][]byte) bool {
	for _, p := range prefixes {
		if bytes.HasPrefix(b, p) {
			return true
		}
	}
	return false
}

func anyContained(b []byte, subs [][]byte) bool {
	for _, s := range subs {
		if bytes.Contains(b, s) {
			return true
		}
	}
	return false
}
