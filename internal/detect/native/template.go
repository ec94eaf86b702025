package native

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// A template is text with {{name}} placeholders, a deliberately tiny
// language (no conditions, no functions) so that a title cannot fail or
// loop at run time: a name is an event field, filled with its value (a
// list's values joined with ", "; "-" when the event lacks it), or one of
// the special names below. There is no escape for a literal "{{".
//
//	count      the events counted (1 without a threshold)
//	threshold  the rule's threshold
//	window     the rule's window (10m, 1h30m)
//	severity   the match's severity
//	first      the time of the first counted event (RFC 3339, UTC)
//	last       the time of the last one
type template []segment

type segment struct {
	text  string // literal text, when name is ""
	name  string
	field bool // name is an event field, not a special
}

// specials are the names a template fills from the match, not the event.
var specials = map[string]bool{
	"count": true, "threshold": true, "window": true, "severity": true, "first": true, "last": true,
}

// maxTemplate bounds a template's length: titles and summaries are short.
const maxTemplate = 4096

func parseTemplate(s string) (template, error) {
	if len(s) > maxTemplate {
		return nil, fmt.Errorf("longer than %d bytes", maxTemplate)
	}
	var out template
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			if strings.Contains(s, "}}") {
				return nil, fmt.Errorf("%q without an opening {{", "}}")
			}
			out = append(out, segment{text: s})
			break
		}
		if i > 0 {
			if strings.Contains(s[:i], "}}") {
				return nil, fmt.Errorf("%q without an opening {{", "}}")
			}
			out = append(out, segment{text: s[:i]})
		}
		rest := s[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 {
			return nil, fmt.Errorf("{{ without a closing }}")
		}
		name := strings.TrimSpace(rest[:j])
		if err := checkPlaceholder(name); err != nil {
			return nil, err
		}
		out = append(out, segment{name: name, field: !specials[name]})
		s = rest[j+2:]
	}
	return out, nil
}

// checkPlaceholder accepts field names as the query language writes them
// (dotted ECS names, @timestamp) and the special names.
func checkPlaceholder(name string) error {
	if name == "" {
		return fmt.Errorf("an empty {{}} placeholder")
	}
	for i, c := range name {
		ok := c == '.' || c == '_' || c == '-' || c == '@' && i == 0 ||
			'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !ok {
			return fmt.Errorf("placeholder {{%s}}: a field name (letters, digits, '.', '_', '-') or one of count, threshold, window, severity, first, last", name)
		}
	}
	if strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".") || strings.Contains(name, "..") {
		return fmt.Errorf("placeholder {{%s}}: a field name made of non-empty dot-separated parts", name)
	}
	return nil
}

// fill is what a template is rendered with.
type fill struct {
	ev          *event.Event
	count       int
	threshold   int
	window      time.Duration
	severity    string
	first, last time.Time
}

func (t template) render(f *fill) string {
	if len(t) == 1 && t[0].name == "" {
		return t[0].text
	}
	var b strings.Builder
	for _, s := range t {
		if s.name == "" {
			b.WriteString(s.text)
			continue
		}
		if s.field {
			if !writeValue(&b, f.ev, s.name, ", ") {
				b.WriteByte('-')
			}
			continue
		}
		switch s.name {
		case "count":
			b.WriteString(strconv.Itoa(f.count))
		case "threshold":
			b.WriteString(strconv.Itoa(f.threshold))
		case "window":
			b.WriteString(formatDuration(f.window))
		case "severity":
			b.WriteString(f.severity)
		case "first":
			b.WriteString(f.first.UTC().Format(time.RFC3339))
		case "last":
			b.WriteString(f.last.UTC().Format(time.RFC3339))
		}
	}
	return b.String()
}

// writeValue writes a field's value, a list's values joined with sep, and
// reports whether there was one. Scalars are read without building a list:
// this runs for every match.
func writeValue(b *strings.Builder, ev *event.Event, field, sep string) bool {
	v, ok := ev.Get(field)
	if !ok {
		return false
	}
	switch v.(type) {
	case []string, []any:
		vs := ev.Strings(field)
		for i, s := range vs {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s)
		}
		return len(vs) > 0
	}
	s := ev.String(field)
	b.WriteString(s)
	return s != ""
}

// formatDuration writes a window the way rules write it: 10m, 1h30m, 2d.
func formatDuration(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 && d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(days), 10) + "d"
	}
	for _, u := range []struct {
		d time.Duration
		s string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.d; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.s)
			d -= n * u.d
		}
	}
	if d > 0 {
		b.WriteString(d.String())
	}
	return b.String()
}
