package query

// Keyword pre-filters. A bare keyword can be ruled out for a whole block of
// events, or for one raw record, by something cheaper than Match: a token
// Bloom filter, or a scan of the record's text. MayMatch evaluates a query
// against such a test; it is sound (never false when Match could be true)
// because every clause it cannot judge counts as "may match", and a NOT
// counts as "may match" whatever is under it.

// MayMatch reports whether events tested by may could match n. may is asked
// about each bare, non-wildcard keyword in a positive position (field "")
// and about each plain text value of a field term on a field that is not
// promoted (the SQL decides promoted ones): may(term, "") false means no
// event in the set contains the keyword as words; may(value, field) false
// means no event in the set has any text field value holding all of the
// value's tokens. A token index built from the raw text and every string
// value of the events answers both.
func MayMatch(n Node, may func(term, field string) bool) bool { return mayMatch(n, may, false) }

// MayMatchPromoted is MayMatch that also asks about plain text values of
// promoted fields: the SQL decides those exactly, but an index can still
// spare it the blocks that cannot hold the value.
func MayMatchPromoted(n Node, may func(term, field string) bool) bool { return mayMatch(n, may, true) }

func mayMatch(n Node, may func(term, field string) bool, promoted bool) bool {
	switch x := n.(type) {
	case *And:
		for _, c := range x.Nodes {
			if !mayMatch(c, may, promoted) {
				return false
			}
		}
		return true
	case *Or:
		for _, c := range x.Nodes {
			if mayMatch(c, may, promoted) {
				return true
			}
		}
		return false
	case *Term:
		if x.Field == "" {
			return may(x.Value, "")
		}
		if v, ok := plainFieldValue(x, promoted); ok {
			return may(v, x.Field)
		}
		return true
	default:
		// MatchAll, Not, Wildcard, Exists, Range and field terms: no opinion.
		return true
	}
}

// plainFieldValue returns the text a field term on a non-promoted field
// compares for equality, when it is plain text: not a number, a time or a
// CIDR, which compare by meaning rather than by spelling.
func plainFieldValue(t *Term, promoted bool) (string, bool) {
	tg := resolve(t.Field)
	if tg.promoted && !promoted {
		return "", false
	}
	p, bad := planTerm(tg, t.Value)
	if bad != "" || p.mode != tmEqual {
		return "", false
	}
	return p.text, true
}

// IndexTerms lists every term MayMatch (or, with promoted,
// MayMatchPromoted) may ask about: keywords and plain field values.
func IndexTerms(n Node, promoted bool) []string {
	var out []string
	mayMatch(n, func(term, _ string) bool {
		out = append(out, term)
		return true
	}, promoted)
	return out
}

// Keywords lists the bare, non-wildcard keywords MayMatch may ask about.
func Keywords(n Node) []string {
	var out []string
	var walk func(Node)
	walk = func(n Node) {
		switch x := n.(type) {
		case *And:
			for _, c := range x.Nodes {
				walk(c)
			}
		case *Or:
			for _, c := range x.Nodes {
				walk(c)
			}
		case *Term:
			if x.Field == "" {
				out = append(out, x.Value)
			}
		}
	}
	walk(n)
	return out
}

// Fields lists the fields the query names, and reports whether it has a
// keyword (a bare term or wildcard, which searches the event's text).
func Fields(n Node) (fields []string, keyword bool) {
	var walk func(Node)
	field := func(f string) {
		if f == "" {
			keyword = true
		} else {
			fields = append(fields, f)
		}
	}
	walk = func(n Node) {
		switch x := n.(type) {
		case *And:
			for _, c := range x.Nodes {
				walk(c)
			}
		case *Or:
			for _, c := range x.Nodes {
				walk(c)
			}
		case *Not:
			walk(x.Node)
		case *Term:
			field(x.Field)
		case *Wildcard:
			field(x.Field)
		case *Exists:
			field(x.Field)
		case *Range:
			field(x.Field)
		}
	}
	walk(n)
	return fields, keyword
}
