package query

import (
	"fmt"
	"strings"
)

// Compile turns a parsed query into a boolean SQL expression and its
// arguments, exact, for the events table of docs/architecture.md: the
// promoted columns of store.Columns, message and original, and doc holding
// every other field as nested ECS JSON. Use it as
// "WHERE <time range> AND <where>", the time range's arguments first. The
// expression is self-contained (parenthesised where it needs to be), and a
// NOT over an absent field is true, never NULL.
//
// No user text becomes SQL text: values, LIKE patterns and JSON paths are
// all "?" arguments; only column names from store.Columns and this
// package's constants are written out. A CIDR on an IP field calls
// ip_in_cidr, so the database needs RegisterFunctions first.
func Compile(n Node) (where string, args []any, err error) {
	s := sqlBuilder{}
	if err := s.node(n); err != nil {
		return "", nil, err
	}
	return s.b.String(), s.args, nil
}

// CompileFilter compiles a query for an events table that has only the
// promoted columns of store.Columns, with the documents kept elsewhere. A
// clause on any other field (and the text part of a keyword) cannot be
// decided there, so the filter over-approximates: every event that matches
// the query passes it, and the caller checks the rows that pass with Match
// (or a Matcher) on the re-derived events. exact reports that the filter
// decides the query alone, so that no such check is needed.
func CompileFilter(n Node) (where string, args []any, exact bool, err error) {
	s := sqlBuilder{columnsOnly: true}
	if err := s.node(n); err != nil {
		return "", nil, false, err
	}
	return s.b.String(), s.args, !s.inexact, nil
}

// ToSQL parses and compiles q.
func ToSQL(q string) (where string, args []any, err error) {
	n, err := Parse(q)
	if err != nil {
		return "", nil, err
	}
	return Compile(n)
}

type sqlBuilder struct {
	b    strings.Builder
	args []any
	// columnsOnly writes clauses on fields outside store.Columns as TRUE,
	// or as FALSE under an odd number of NOTs, so that the whole stays an
	// over-approximation; inexact records that it happened.
	columnsOnly bool
	negated     bool
	inexact     bool
}

// hidden reports whether t is out of the SQL's sight, and if so writes the
// over-approximating constant in its place.
func (s *sqlBuilder) hidden(t target) bool {
	if !s.columnsOnly || t.promoted {
		return false
	}
	s.inexact = true
	if s.negated {
		s.w("FALSE")
	} else {
		s.w("TRUE")
	}
	return true
}

func (s *sqlBuilder) w(sql string) { s.b.WriteString(sql) }

// arg writes a placeholder for v.
func (s *sqlBuilder) arg(v any) {
	s.b.WriteByte('?')
	s.args = append(s.args, v)
}

func (s *sqlBuilder) node(n Node) error {
	switch x := n.(type) {
	case MatchAll, *MatchAll:
		s.w("TRUE")
	case *And:
		return s.list(x.Nodes, " AND ")
	case *Or:
		return s.list(x.Nodes, " OR ")
	case *Not:
		// NOT of a NULL (an absent column, a missing JSON path) would drop
		// the row; coalesce makes "absent" count as "does not match".
		s.w("NOT coalesce(")
		s.negated = !s.negated
		if err := s.node(x.Node); err != nil {
			return err
		}
		s.negated = !s.negated
		s.w(", FALSE)")
	case *Term:
		return s.term(x)
	case *Wildcard:
		return s.wildcard(x)
	case *Exists:
		if msg := checkField(x.Field); msg != "" {
			return leafError(x.Pos, x.Field, msg)
		}
		s.exists(resolve(x.Field))
	case *Range:
		return s.rangeSQL(x)
	default:
		return fmt.Errorf("compile query: unknown node %T", n)
	}
	return nil
}

func (s *sqlBuilder) list(nodes []Node, op string) error {
	if len(nodes) == 0 {
		return fmt.Errorf("compile query: empty %s", strings.TrimSpace(op))
	}
	s.w("(")
	for i, c := range nodes {
		if i > 0 {
			s.w(op)
		}
		if err := s.node(c); err != nil {
			return err
		}
	}
	s.w(")")
	return nil
}

// leafError reports a field or value that cannot be compared.
func leafError(pos int, found, expected string) *SyntaxError {
	return &SyntaxError{Pos: pos, Found: quote(found), Expected: expected}
}

func (s *sqlBuilder) term(n *Term) error {
	if n.Field == "" {
		keywordSQL(s, planKeyword(n.Value, false))
		return nil
	}
	if msg := checkField(n.Field); msg != "" {
		return leafError(n.Pos, n.Field, msg)
	}
	t := resolve(n.Field)
	p, msg := planTerm(t, n.Value)
	if msg != "" {
		return leafError(n.Pos, n.Value, msg)
	}
	s.termPlan(t, p)
	return nil
}

func (s *sqlBuilder) termPlan(t target, p termPlan) {
	switch p.mode {
	case tmNumber:
		s.w("(" + t.column + " = ")
		s.arg(numberArg(p.num))
		s.w(")")
	case tmInstant:
		s.w("(" + t.column + " = ")
		s.arg(p.t0)
		s.w(")")
	case tmDay:
		s.w("(" + t.column + " >= ")
		s.arg(p.t0)
		s.w(" AND " + t.column + " < ")
		s.arg(p.t1)
		s.w(")")
	case tmEqual:
		s.anyValue(t, func(s *sqlBuilder, x string) {
			s.w(x + " = ")
			s.arg(p.text)
		}, p.text, p.text)
	case tmTextOrNumber:
		s.anyValue(t, func(s *sqlBuilder, x string) {
			s.w(x + " = ")
			s.arg(p.text)
			s.w(" OR TRY_CAST(" + x + " AS DOUBLE) = ")
			s.arg(p.num)
		}, nil, "")
	case tmLead, tmCIDR:
		if t.v4 != "" && p.cidr.Addr().Is4() {
			// A range of the column's IPv4 addresses as numbers.
			lo, hi := ipv4Range(p.cidr)
			s.w("(" + t.v4 + " BETWEEN ")
			s.arg(lo)
			s.w(" AND ")
			s.arg(hi)
			s.w(")")
			return
		}
		s.cidrText(t, p)
	}
}

// cidrText writes a CIDR test on an IP field's text.
func (s *sqlBuilder) cidrText(t target, p termPlan) {
	switch p.mode {
	case tmLead:
		s.anyValue(t, func(s *sqlBuilder, x string) {
			s.w("starts_with(" + x + ", ")
			s.arg(p.lead)
			s.w(")")
		}, nil, "")
	case tmCIDR:
		s.anyValue(t, func(s *sqlBuilder, x string) {
			if p.lead == "" {
				s.w("ip_in_cidr(" + x + ", ")
				s.arg(p.cidr.String())
				s.w(")")
				return
			}
			// CASE, not AND, so that the function only runs on values
			// that pass the cheap text test.
			s.w("CASE WHEN starts_with(" + x + ", ")
			s.arg(p.lead)
			s.w(") THEN ip_in_cidr(" + x + ", ")
			s.arg(p.cidr.String())
			s.w(") ELSE FALSE END")
		}, nil, "")
	}
}

// anyValue writes "some value of the field satisfies pred". pred writes a
// predicate over the SQL expression x (a column, or the lambda variable x).
// eq, when not nil, says pred is "x = eq", which lists test with
// list_contains. hint, when not "", is text every matching doc contains.
func (s *sqlBuilder) anyValue(t target, pred func(s *sqlBuilder, x string), eq any, hint string) {
	if s.hidden(t) {
		return
	}
	switch {
	case t.kind == kindDoc:
		if docSafe(hint) {
			// A cheap scan of the JSON text rules out most rows before
			// any JSON is parsed. CASE, not AND: DuckDB skips the THEN
			// branch for rows that fail even under a NOT, where it
			// evaluates both sides of an AND.
			s.w("CASE WHEN contains(" + docColumn + ", ")
			s.arg(hint)
			s.w(") THEN ")
			defer s.w(" ELSE FALSE END")
		}
		values := func() {
			// A doc value is a scalar, an array or an object. Make it a
			// list of its scalars, so that any element can match and
			// objects match nothing, as in Event.Strings.
			path := jsonPath(t.field)
			s.w("CASE json_type(" + docColumn + ", ")
			s.arg(path)
			s.w(") WHEN 'ARRAY' THEN list_transform(json_extract(" + docColumn + ", ")
			s.arg(path + "[*]")
			s.w("), v -> CASE WHEN json_type(v) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(v, '$') END)")
			s.w(" WHEN 'OBJECT' THEN CAST([] AS VARCHAR[]) ELSE [json_extract_string(" + docColumn + ", ")
			s.arg(path)
			s.w(")] END")
		}
		s.anyOfList(values, pred, eq)
	case t.list():
		s.anyOfList(func() { s.w(t.column) }, pred, eq)
	default:
		s.w("(")
		pred(s, t.column)
		s.w(")")
	}
}

func (s *sqlBuilder) anyOfList(list func(), pred func(s *sqlBuilder, x string), eq any) {
	if eq != nil {
		s.w("list_contains(")
		list()
		s.w(", ")
		s.arg(eq)
		s.w(")")
		return
	}
	s.w("(len(list_filter(")
	list()
	s.w(", x -> (")
	pred(s, "x")
	s.w("))) > 0)")
}

func (s *sqlBuilder) wildcard(n *Wildcard) error {
	if n.Field == "" {
		keywordSQL(s, planKeyword(n.Pattern, true))
		return nil
	}
	if msg := checkField(n.Field); msg != "" {
		return leafError(n.Pos, n.Field, msg)
	}
	t := resolve(n.Field)
	if msg := planWildcard(t); msg != "" {
		return leafError(n.Pos, n.Pattern, msg)
	}
	like := globToLike(n.Pattern)
	s.anyValue(t, func(s *sqlBuilder, x string) {
		if t.kind == kindInt {
			x = "CAST(" + x + " AS VARCHAR)"
		}
		s.w(x + ` LIKE `)
		s.arg(like)
		s.w(` ESCAPE '\'`)
	}, nil, globLongestLiteral(n.Pattern))
	return nil
}

func (s *sqlBuilder) exists(t target) {
	if s.hidden(t) {
		return
	}
	switch t.kind {
	case kindDoc:
		s.w("json_exists(" + docColumn + ", ")
		s.arg(jsonPath(t.field))
		s.w(")")
	case kindText, kindIP:
		s.w("(" + t.column + " <> '')") // an empty text is no value
	case kindTextList, kindIPList:
		s.w("(len(" + t.column + ") > 0)")
	default:
		s.w("(" + t.column + " IS NOT NULL)")
	}
}

func (s *sqlBuilder) rangeSQL(n *Range) error {
	if msg := checkField(n.Field); msg != "" {
		return leafError(n.Pos, n.Field, msg)
	}
	t := resolve(n.Field)
	p, msg, found := planRange(t, n)
	if msg != "" {
		return leafError(n.Pos, found, msg)
	}
	if p.mode == rmExists {
		s.exists(t)
		return nil
	}
	s.anyValue(t, func(s *sqlBuilder, x string) {
		switch {
		case p.mode == rmNumber && t.kind != kindInt:
			x = "TRY_CAST(" + x + " AS DOUBLE)"
		case p.mode == rmTime && t.kind != kindTime:
			x = "TRY_CAST(" + x + " AS TIMESTAMPTZ)"
		}
		s.bound(x, p.mode, p.lo, ">")
		if p.lo.set && p.hi.set {
			s.w(" AND ")
		}
		s.bound(x, p.mode, p.hi, "<")
	}, nil, "")
	return nil
}

func (s *sqlBuilder) bound(x string, mode rangeMode, b planBound, op string) {
	if !b.set {
		return
	}
	if b.incl {
		op += "="
	}
	s.w(x + " " + op + " ")
	switch mode {
	case rmNumber:
		s.arg(numberArg(b.num))
	case rmTime:
		s.arg(b.t)
	default:
		s.arg(b.text)
	}
}
