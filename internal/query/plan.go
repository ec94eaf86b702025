package query

import (
	"net/netip"
	"time"
)

// The plans below decide once how a clause is evaluated; Compile turns a
// plan into SQL and Match evaluates the same plan on an event, so that the
// two agree by construction.

// termMode is how a field Term compares a value.
type termMode int

const (
	tmEqual        termMode = iota // value = text (an IP in canonical form)
	tmLead                         // value starts with lead: an octet-aligned IPv4 CIDR on canonical IPs
	tmCIDR                         // ip_in_cidr(value, cidr), after a lead check when lead != ""
	tmNumber                       // numeric equality (integer columns)
	tmTextOrNumber                 // value = text, or equal as numbers: a number on a doc field
	tmInstant                      // time equality
	tmDay                          // t0 <= time < t1: a bare date
)

type termPlan struct {
	mode   termMode
	text   string // tmEqual: the value
	lead   string // tmLead, tmCIDR: text every match starts with, or ""
	cidr   netip.Prefix
	num    float64
	t0, t1 time.Time
}

// planTerm plans field:value. A non-empty second result says what value
// was expected instead.
func planTerm(t target, value string) (termPlan, string) {
	switch t.kind {
	case kindInt:
		f, ok := parseNumber(value)
		if !ok {
			return termPlan{}, "a number for " + t.field
		}
		return termPlan{mode: tmNumber, num: f}, ""
	case kindTime:
		t0, day, ok := parseTime(value)
		if !ok {
			return termPlan{}, "a time (RFC 3339, or a date such as 2024-05-01) for " + t.field
		}
		if day {
			return termPlan{mode: tmDay, t0: t0, t1: t0.AddDate(0, 0, 1)}, ""
		}
		return termPlan{mode: tmInstant, t0: t0}, ""
	}
	if t.ip {
		if p, ok := parseCIDR(value); ok {
			if p.IsSingleIP() {
				return termPlan{mode: tmEqual, text: p.Addr().String()}, ""
			}
			if t.kind == kindDoc {
				// Doc values are not known to be canonical: test each one.
				return termPlan{mode: tmCIDR, cidr: p}, ""
			}
			lead, exact := prefixLead(p)
			if exact {
				return termPlan{mode: tmLead, lead: lead, cidr: p}, ""
			}
			return termPlan{mode: tmCIDR, lead: lead, cidr: p}, ""
		}
		if c, ok := canonicalIP(value); ok {
			return termPlan{mode: tmEqual, text: c}, ""
		}
	}
	if t.kind == kindDoc {
		// The doc's type for the field is unknown, and JSON numbers do not
		// keep their spelling (1e+21 reads back as 1e21): compare numbers
		// as numbers too.
		if f, ok := parseNumber(value); ok {
			return termPlan{mode: tmTextOrNumber, text: value, num: f}, ""
		}
	}
	return termPlan{mode: tmEqual, text: value}, ""
}

// planWildcard checks that field:pattern can be evaluated.
func planWildcard(t target) string {
	if t.kind == kindTime {
		return "a time or a range for " + t.field + " (wildcards do not apply to times)"
	}
	return ""
}

// rangeMode is how a Range compares: numbers, times or text.
type rangeMode int

const (
	rmNumber rangeMode = iota
	rmTime
	rmText
	rmExists // both ends open
)

type rangePlan struct {
	mode   rangeMode
	lo, hi planBound
}

type planBound struct {
	set  bool // false for an open end
	incl bool
	num  float64
	t    time.Time
	text string
}

// planRange decides how to compare: integer and time columns by their
// type; other fields numerically when every given bound is a number, as
// times when every given bound is a time, else as text.
// A non-empty second result says what was expected instead of the bound
// value in the third.
func planRange(t target, r *Range) (rangePlan, string, string) {
	if r.Lo.Open && r.Hi.Open {
		return rangePlan{mode: rmExists}, "", ""
	}
	bounds := [2]Bound{r.Lo, r.Hi}
	allNum, allTime := true, true
	notNum, notTime := "", ""
	for _, b := range bounds {
		if b.Open {
			continue
		}
		if _, ok := parseNumber(b.Value); !ok && allNum {
			allNum, notNum = false, b.Value
		}
		if _, _, ok := parseTime(b.Value); !ok && allTime {
			allTime, notTime = false, b.Value
		}
	}
	var p rangePlan
	switch {
	case t.kind == kindInt:
		if !allNum {
			return p, "a number for the range of " + t.field, notNum
		}
		p.mode = rmNumber
	case t.kind == kindTime:
		if !allTime {
			return p, "a time (RFC 3339, or a date such as 2024-05-01) for the range of " + t.field, notTime
		}
		p.mode = rmTime
	case allNum:
		p.mode = rmNumber
	case allTime:
		p.mode = rmTime
	default:
		p.mode = rmText
	}
	p.lo = planEnd(p.mode, r.Lo, false)
	p.hi = planEnd(p.mode, r.Hi, true)
	return p, "", ""
}

// planEnd types one bound. A bare date as a bound covers its whole day:
// [2024-05-01 TO 2024-05-02] runs to the end of May 2.
func planEnd(mode rangeMode, b Bound, upper bool) planBound {
	if b.Open {
		return planBound{}
	}
	pb := planBound{set: true, incl: b.Inclusive, text: b.Value}
	switch mode {
	case rmNumber:
		pb.num, _ = parseNumber(b.Value)
	case rmTime:
		t, day, _ := parseTime(b.Value)
		pb.t = t
		if day {
			next := t.AddDate(0, 0, 1)
			switch {
			case upper && b.Inclusive: // ..2024-05-02] -> < May 3
				pb.t, pb.incl = next, false
			case !upper && !b.Inclusive: // {2024-05-01.. -> >= May 2
				pb.t, pb.incl = next, true
			}
		}
	}
	return pb
}

// keywordPlan is a bare term's search: the lower-cased text, its address
// or CIDR when it is one, and the fields it searches (see keyword.go).
type keywordPlan struct {
	lower   string // the term lower-cased (a glob when wild)
	wild    bool
	anyGlob string // wild: "*lower*", for a match anywhere in a text
	ip      string // canonical address, or ""
	cidr    termPlan
	isNet   bool // cidr is set
	text    [2]target
	elems   [3]target
	related target // related.ip
}

func planKeyword(value string, wild bool) keywordPlan {
	k := keywordPlan{lower: toLower(value), wild: wild, related: resolve(relatedIPField)}
	for i, f := range keywordTextFields() {
		k.text[i] = resolve(f)
	}
	for i, f := range keywordElemFields() {
		k.elems[i] = resolve(f)
	}
	if wild {
		k.anyGlob = "*" + k.lower + "*"
		return k
	}
	if c, ok := canonicalIP(value); ok {
		k.ip = c
	} else if _, ok := parseCIDR(value); ok {
		k.cidr, _ = planTerm(k.related, value)
		k.isNet = true
	}
	return k
}
