package googleworkspace

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// claimFor returns the Claim of an application's dataset: a Reports API
// activity (or page of them) whose applicationName is the application's.
// It looks at bytes only; a page's first activity decides.
func claimFor(a *app) func(dataset.Line) bool {
	return func(l dataset.Line) bool {
		name, ok := claimedApp(l.Body)
		return ok && a.has(name)
	}
}

var (
	kindMarker = []byte(`"admin#reports#activit`) // activity and activities
	appKey     = []byte(`"applicationName"`)
)

// claimedApp finds the applicationName of a record's first activity. The
// key also names an OAuth client under actor.applicationInfo, so only an
// occurrence inside the id object counts: one whose object also holds
// time, uniqueQualifier or customerId.
func claimedApp(b []byte) (string, bool) {
	if len(b) == 0 || !bytes.Contains(b, kindMarker) {
		return "", false
	}
	off := 0
	for {
		i := bytes.Index(b[off:], appKey)
		if i < 0 {
			return "", false
		}
		at := off + i
		off = at + len(appKey)
		if !inIDObject(b, at) {
			continue
		}
		if v, ok := stringAfterKey(b[off:]); ok {
			return v, true
		}
	}
}

// inIDObject reports whether the key at position at sits in an object
// that also holds one of the id's other keys.
func inIDObject(b []byte, at int) bool {
	start := bytes.LastIndexByte(b[:at], '{')
	end := bytes.IndexByte(b[at:], '}')
	if start < 0 || end < 0 {
		return false
	}
	obj := b[start : at+end]
	return bytes.Contains(obj, []byte(`"uniqueQualifier"`)) || bytes.Contains(obj, []byte(`"customerId"`)) ||
		bytes.Contains(obj, []byte(`"time"`))
}

// stringAfterKey reads `: "value"` (white space allowed) and returns the
// value when it has no escapes, which application names never do.
func stringAfterKey(b []byte) (string, bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != ':' {
		return "", false
	}
	i = skipSpace(b, i+1)
	if i >= len(b) || b[i] != '"' {
		return "", false
	}
	end := bytes.IndexByte(b[i+1:], '"')
	if end < 0 {
		return "", false
	}
	v := b[i+1 : i+1+end]
	if bytes.IndexByte(v, '\\') >= 0 {
		return "", false
	}
	return string(v), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
