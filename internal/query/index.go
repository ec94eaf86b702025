package query

// Keyword pre-filters. A bare keyword can be ruled out for a whole block of
// events, or for one raw record, by something cheaper than Match: a token
// Bloom filter, or a scan of the record's text. MayMatch evaluates a query
// against such a test; it is sound (never false when Match could be true)
// because every clause it cannot judge counts as "may match", and a NOT
// counts as "may match" whatever is under it.

// MayMatch reports whether events tested by may could match n. may is asked
// about each bare, non-wildcard keyword in a positive position: may(term)
// false means no event in the set contains that keyword.
func MayMatch(n Node, may func(term string) bool) bool {
	switch x := n.(type) {
	case *And:
		for _, c := range x.Nodes {
			if !MayMatch(c, may) {
				return false
			}
		}
		return true
	case *Or:
		for _, c := range x.Nodes {
			if MayMatch(c, may) {
				return true
			}
		}
		return false
	case *Term:
		if x.Field == "" {
			return may(x.Value)
		}
		return true
	default:
		// MatchAll, Not, Wildcard, Exists, Range and field terms: no opinion.
		return true
	}
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
