// Package ruleerr is the positioned error of a rule file, shared by the
// rule formats (sigma, native) so that their messages read alike, and the
// conversion of a YAML syntax error into one.
package ruleerr

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Error is a problem in a rule file, with its position.
type Error struct {
	// Prefix names the rule format ("sigma", "native"); it leads the
	// message.
	Prefix string
	File   string
	Line   int // 1-based; 0 when unknown
	Col    int // 1-based; 0 when unknown
	// Rule names the rule (its id or title) when known, to tell the
	// documents of a file apart.
	Rule string
	Msg  string
	// Key is the rule key the problem is about, when known, so that a
	// parser can point the error at that key's line. It is not shown.
	Key string
}

// Error formats as "prefix: file:line:col: rule "r": msg", leaving out
// what is unknown.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Prefix != "" {
		b.WriteString(e.Prefix)
		b.WriteString(": ")
	}
	if e.File != "" {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, ":%d", e.Col)
		}
	}
	if e.File != "" || e.Line > 0 {
		b.WriteString(": ")
	}
	if e.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", e.Rule)
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Reason is the message without the position, for reports that list the
// file beside it.
func (e *Error) Reason() string { return e.Msg }

// As returns err's *Error, if it has one.
func As(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Errors splits an error (one *Error, or several joined) into its
// *Errors. A part that is not an *Error becomes one with its text as the
// message and the given prefix, so that no problem is lost.
func Errors(err error, prefix string) []*Error {
	if err == nil {
		return nil
	}
	var list interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &list) {
		errs = list.Unwrap()
	}
	var out []*Error
	for _, e := range errs {
		if re, ok := As(e); ok {
			out = append(out, re)
			continue
		}
		out = append(out, &Error{Prefix: prefix, Msg: e.Error()})
	}
	return out
}

// yamlLine is how yaml.v3 places a syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// FromYAML turns a yaml.v3 syntax error into an Error in file, at the
// line the message names (moved from the text to Line).
func FromYAML(prefix, file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		// A number that is no line (0, or too large) stays in the text.
		if line, err := strconv.Atoi(m[1]); err == nil && line > 0 {
			return &Error{Prefix: prefix, File: file, Line: line, Msg: "YAML: " + msg[len(m[0]):]}
		}
	}
	return &Error{Prefix: prefix, File: file, Msg: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}
