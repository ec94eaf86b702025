package dataset

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"time"

	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Registry is the explicit list of datasets mamori knows, by name.
type Registry struct {
	byName map[string]Dataset
	// ordered holds the datasets in registration order: the order Claim
	// and ForKey ask them in.
	ordered []Dataset
}

// NewRegistry returns a registry of ds. The list is written by hand (see
// internal/datasets), so a dataset without a name or parser, or a name
// given twice, is a programming error and panics.
func NewRegistry(ds ...Dataset) *Registry {
	r := &Registry{byName: make(map[string]Dataset, len(ds))}
	for _, d := range ds {
		if d.Name == "" || d.Parser == nil {
			panic(fmt.Sprintf("dataset registry: dataset %q has no name or no parser", d.Name))
		}
		if _, dup := r.byName[d.Name]; dup {
			panic(fmt.Sprintf("dataset registry: dataset %q registered twice", d.Name))
		}
		r.byName[d.Name] = d
		r.ordered = append(r.ordered, d)
	}
	return r
}

// Lookup returns the dataset with the given name.
func (r *Registry) Lookup(name string) (Dataset, bool) {
	d, ok := r.byName[name]
	return d, ok
}

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Detect returns the dataset a record belongs to: the first that claims
// it (see Dataset.Claim), or else the generic dataset that Detect names.
func (r *Registry) Detect(data []byte) (Dataset, bool) {
	if d, ok := r.Claim(LineOf(data)); ok {
		return d, true
	}
	return r.Lookup(Detect(data))
}

// Claim returns the first dataset, in registration order, that claims l.
func (r *Registry) Claim(l Line) (Dataset, bool) {
	for _, d := range r.ordered {
		if d.Claim != nil && d.Claim(l) {
			return d, true
		}
	}
	return Dataset{}, false
}

// ForKey returns the first dataset, in registration order, with a key
// pattern matching an archive key.
func (r *Registry) ForKey(key string) (Dataset, bool) {
	for _, d := range r.ordered {
		for _, p := range d.Keys {
			if MatchKey(p, key) {
				return d, true
			}
		}
	}
	return Dataset{}, false
}

// Verbatim reports whether a field's text values are copied verbatim
// from raw records by every dataset (see Dataset.Verbatim).
func (r *Registry) Verbatim(field string) bool {
	for _, d := range r.ordered {
		for _, p := range d.Verbatim {
			if strings.HasPrefix(field, p) {
				return true
			}
		}
	}
	return false
}

// LineOf splits a record for Claim: when it starts like a syslog message,
// its header's program name and body; otherwise the record itself.
func LineOf(data []byte) Line {
	l := Line{Data: data, Body: data}
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 || !looksLikeSyslog(trimmed) {
		return l
	}
	// The year of a BSD timestamp does not matter here.
	m := parsesyslog.Parse(data, time.Time{}, time.UTC)
	if m.HeaderFound() {
		l.App = m.AppName
		l.Body = []byte(m.Body)
	}
	return l
}

// Names of the generic datasets that Detect returns.
const (
	JSON   = "json"
	CEF    = "cef"
	LEEF   = "leef"
	Syslog = "syslog"
	KV     = "kv"
)

// Detect names the generic dataset that best fits a raw record: a JSON
// object is json; a record starting with "CEF:" or "LEEF:" is cef or leef;
// one that starts like syslog (a PRI, a BSD or RFC 3339 timestamp) is
// syslog, which itself hands a CEF or LEEF body on; two or more key=value
// pairs are kv; anything else is syslog, which keeps any line as a message.
// It looks at a few bytes only, so it is cheap enough for every record.
func Detect(data []byte) string {
	data = bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(data) == 0 {
		return Syslog
	}
	switch {
	case data[0] == '{':
		if end := bytes.TrimRight(data, " \t\r\n"); end[len(end)-1] == '}' {
			return JSON
		}
	case bytes.HasPrefix(data, []byte("CEF:")):
		return CEF
	case bytes.HasPrefix(data, []byte("LEEF:")):
		return LEEF
	}
	if looksLikeSyslog(data) {
		return Syslog
	}
	if countPairs(data, 2) >= 2 {
		return KV
	}
	return Syslog
}

// looksLikeSyslog reports a PRI ("<13>"), a BSD timestamp ("Oct 11 ") or an
// RFC 3339 date ("2024-01-02T") at the start of data.
func looksLikeSyslog(data []byte) bool {
	if data[0] == '<' {
		i := 1
		for i < len(data) && i <= 4 && data[i] >= '0' && data[i] <= '9' {
			i++
		}
		return i > 1 && i < len(data) && data[i] == '>'
	}
	if len(data) >= 7 && isMonth(data[:3]) && data[3] == ' ' && (isDigit(data[4]) || data[4] == ' ') {
		return true
	}
	return len(data) >= 11 && isDigit(data[0]) && isDigit(data[3]) && data[4] == '-' && data[7] == '-' &&
		(data[10] == 'T' || data[10] == ' ')
}

var monthAbbrevs = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func isMonth(b []byte) bool {
	for _, m := range monthAbbrevs {
		if string(b) == m {
			return true
		}
	}
	return false
}

// countPairs counts word=value tokens (a word of key characters directly
// followed by '=' at the start of a space-separated token), stopping at
// limit.
func countPairs(data []byte, limit int) int {
	n := 0
	for i := 0; i < len(data) && n < limit; {
		for i < len(data) && (data[i] == ' ' || data[i] == '\t') {
			i++
		}
		j := i
		for j < len(data) && isKeyChar(data[j]) {
			j++
		}
		if j > i && j < len(data) && data[j] == '=' {
			n++
		}
		for j < len(data) && data[j] != ' ' && data[j] != '\t' {
			j++
		}
		i = j
	}
	return n
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || c == '.' || c == ':' || c == '-'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
