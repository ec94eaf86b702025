package query

// FilterAlwaysTrue reports whether the filter CompileFilter writes for n
// holds for every row: when each clause it could write on a stored column
// is joined by OR to a clause on a field outside the columns (which the
// over-approximation writes as TRUE), or there is none. A bare keyword is
// such a query: it searches event.original, which is not a column. Such a
// filter selects nothing, so a search can skip asking the database.
func FilterAlwaysTrue(n Node) bool {
	v, known := filterConst(n, false)
	return known && v
}

// filterConst is the constant value of n's over-approximating filter, if
// it has one; negated says whether n is under an odd number of NOTs (the
// over-approximation of a hidden clause is then FALSE).
func filterConst(n Node, negated bool) (value, known bool) {
	switch x := n.(type) {
	case MatchAll, *MatchAll:
		return true, true
	case *And:
		all := true
		for _, c := range x.Nodes {
			v, k := filterConst(c, negated)
			if k && !v {
				return false, true
			}
			all = all && k
		}
		return true, all
	case *Or:
		all := true
		for _, c := range x.Nodes {
			v, k := filterConst(c, negated)
			if k && v {
				return true, true
			}
			all = all && k
		}
		return false, all
	case *Not:
		v, k := filterConst(x.Node, !negated)
		return !v, k
	case *Term:
		return leafConst(x.Field, negated)
	case *Wildcard:
		return leafConst(x.Field, negated)
	case *Exists:
		return leafConst(x.Field, negated)
	case *Range:
		return leafConst(x.Field, negated)
	}
	return false, false
}

// leafConst is the constant a clause on field compiles to, if any. A bare
// keyword ("" field) is an OR over the text fields, the related lists and
// related.ip: constant TRUE when one text field is hidden and the clause
// is not negated, data-dependent otherwise.
func leafConst(field string, negated bool) (value, known bool) {
	if field == "" {
		for _, f := range keywordTextFields() {
			if !resolve(f).promoted && !negated {
				return true, true
			}
		}
		return false, false
	}
	if checkField(field) != "" || resolve(field).promoted {
		return false, false
	}
	return !negated, true
}
