package native

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Error is a problem in a native rule file, with its position.
type Error struct {
	File string
	Line int // 1-based; 0 when unknown
	Col  int // 1-based; 0 when unknown
	// Rule is the rule's id when known, to tell the documents of a file
	// apart.
	Rule string
	Msg  string
	// key is the rule key the problem is about, for Parse to place it.
	key string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("native: ")
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

// AsError returns err's *Error, if it has one.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// Errors splits an error Parse returned into its *Errors.
func Errors(err error) []*Error {
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
		if ne, ok := AsError(e); ok {
			out = append(out, ne)
			continue
		}
		out = append(out, &Error{Msg: e.Error()})
	}
	return out
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// yamlError turns a yaml.v3 syntax error into an Error with its line.
func yamlError(file string, err error) *Error {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Msg: "YAML: " + msg[len(m[0]):]}
	}
	return &Error{File: file, Msg: "YAML: " + strings.TrimPrefix(msg, "yaml: ")}
}
