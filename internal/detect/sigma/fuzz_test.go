package sigma

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mamori-sec/mamori/internal/event"
)

// FuzzParse feeds the loader arbitrary files: it must never panic, every
// failure must be an *Error naming the file (and the format), a file
// without errors must give rules, and every rule it gives must compile
// and match without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fullRule))
	f.Add([]byte(ruleWith("sel:\n    a|contains|all:\n        - x\n        - y\ncondition: sel")))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse("fuzz.yml", data)
		if err != nil {
			var list interface{ Unwrap() []error }
			errs := []error{err}
			if errors.As(err, &list) {
				errs = list.Unwrap()
			}
			for _, e := range errs {
				se, ok := AsError(e)
				if !ok || se.File != "fuzz.yml" || se.Prefix != prefix {
					t.Fatalf("error %T %v does not name the file", e, e)
				}
			}
		} else if len(rules) == 0 {
			t.Fatal("no rules and no error")
		}
		events := []*event.Event{
			ev(),
			ev("message", "Accepted password for root", "a", "x", "n", int64(5)),
			ev("event.original", "{\"eventName\":\"ConsoleLogin\"}", "tags", []string{"a", "b"}, "l", []any{map[string]any{"k": "v"}}),
		}
		for _, r := range rules {
			if r.Detection == nil {
				if r.Correlation == nil {
					t.Fatal("a rule with neither detection nor correlation")
				}
				continue
			}
			m, err := Compile(r, CompileOptions{})
			if err != nil {
				// Parse checked the items with the same code; only
				// placeholders may differ.
				if se, ok := AsError(err); !ok || se.File != "fuzz.yml" || se.Prefix != prefix {
					t.Fatalf("compile error %v does not name the file", err)
				}
				continue
			}
			for _, e := range events {
				m.Match(e)
			}
		}
	})
}

// FuzzCondition feeds the condition parser arbitrary text: it must never
// panic, errors must point inside the text, and a parsed condition must
// print as a condition that parses to the same thing.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{
		"selection", "selection and not filter", "1 of selection_* and not 1 of filter_*",
		"(a or b) and not (c or d)", "all of them", "sel | count() > 3", "not not a",
	} {
		f.Add(s)
	}
	names := []string{"selection", "selection_a", "selection_b", "filter", "filter_main", "a", "b", "c", "d", "_x"}
	f.Fuzz(func(t *testing.T, cond string) {
		e, err := ParseCondition(cond, names)
		if err != nil {
			var ce *CondError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a CondError", err)
			}
			if ce.Pos < 0 || ce.Pos > len(cond) {
				t.Fatalf("error position %d outside the condition (%d bytes)", ce.Pos, len(cond))
			}
			return
		}
		printed := e.String()
		again, err := ParseCondition(printed, names)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", cond, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("%q printed as %q, which parses as %q", cond, printed, again.String())
		}
	})
}

// FuzzWildcard checks Sigma's wildcard matching against Go's regexp: a
// value with "*" and "?" (and escapes) must match exactly the strings the
// equivalent anchored regular expression matches, with and without case.
func FuzzWildcard(f *testing.F) {
	for _, s := range [][2]string{
		{"ad*n?str*", "administrator"}, {"*a*b*c*", "xaxbxcx"}, {"a\\*b", "a*b"}, {"*.exe", "C:\\x.EXE"},
		{"?", "é"}, {"*ab*ab", "abab"}, {"a*?", "a"}, {"", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		if !utf8.ValidString(pat) || !utf8.ValidString(s) {
			return
		}
		v := parseWildcards(pat)
		var re strings.Builder
		re.WriteString("^(?s)")
		for _, p := range v {
			switch p.wild {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(p.lit))
			}
		}
		re.WriteString("$")
		exact := regexp.MustCompile(re.String())
		if got, want := newStrPattern(v, true).matchString(s), exact.MatchString(s); got != want {
			t.Fatalf("cased %q against %q: %v, regexp %s says %v", pat, s, got, re.String(), want)
		}
		if !isASCII(pat) || !isASCII(s) {
			return // folding outside ASCII is strings.ToLower's, not (?i)'s
		}
		folded := regexp.MustCompile("(?i)" + re.String())
		if got, want := newStrPattern(v, false).matchString(s), folded.MatchString(s); got != want {
			t.Fatalf("%q against %q: %v, regexp %s says %v", pat, s, got, "(?i)"+re.String(), want)
		}
	})
}
