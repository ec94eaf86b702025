package azure

import (
	"bytes"
	"strings"
)

var (
	odataKey    = []byte(`"@odata.context"`)
	categoryKey = []byte(`"category"`)
)

// claimKind says which dataset a record belongs to from its bytes alone:
// a Graph response by its @odata.context, a diagnostic record (or the
// first of a batch) by its category, a lone Graph resource by keys only
// it has. It is kindNone for anything else.
func claimKind(b []byte) kind {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 || b[0] != '{' {
		return kindNone
	}
	if i := bytes.Index(b, odataKey); i >= 0 {
		v, _ := stringAfterKey(b[i+len(odataKey):])
		return graphKind(v)
	}
	// properties also have a category (an audit's "UserManagement"): the
	// first value that names a log category decides.
	for off := 0; ; {
		i := bytes.Index(b[off:], categoryKey)
		if i < 0 {
			break
		}
		off += i + len(categoryKey)
		if v, ok := stringAfterKey(b[off:]); ok {
			if k := categoryKind(v); k != kindNone {
				return k
			}
		}
	}
	switch {
	case containsAll(b, `"createdDateTime"`, `"conditionalAccessStatus"`, `"appDisplayName"`):
		return kindSignIn
	case containsAll(b, `"activityDateTime"`, `"activityDisplayName"`, `"loggedByService"`):
		return kindAudit
	}
	return kindNone
}

func containsAll(b []byte, keys ...string) bool {
	for _, k := range keys {
		if !bytes.Contains(b, []byte(k)) {
			return false
		}
	}
	return true
}

// stringAfterKey reads `: "value"` (white space allowed) and returns the
// value up to its closing quote; escapes are left as they are, which the
// values compared here never have.
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
	// An @odata.context URL may escape its slashes.
	return strings.ReplaceAll(string(b[i+1:i+1+end]), `\/`, `/`), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
