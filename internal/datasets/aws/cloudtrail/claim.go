package cloudtrail

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// Claim recognises CloudTrail records that arrive unnamed, by bytes only:
//
//   - an EventBridge event whose detail-type ends in "via CloudTrail"
//     ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail");
//   - a log file, {"Records":[ followed by a record;
//   - a single record: an object with "eventVersion", "eventSource" and
//     "awsRegion", which no other source's JSON has together.
//
// A syslog header in front is allowed (the body is looked at).
func Claim(l dataset.Line) bool {
	b := trimSpace(l.Body)
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	if v, ok := stringValue(head(b), `"detail-type"`); ok {
		return bytes.HasSuffix(v, []byte(" via CloudTrail"))
	}
	return bytes.Contains(b, []byte(`"eventVersion"`)) &&
		bytes.Contains(b, []byte(`"eventSource"`)) &&
		bytes.Contains(b, []byte(`"awsRegion"`))
}

// head is where an EventBridge envelope names its detail-type (after
// "version" and "id"). Where a serialiser sorted the keys it comes after
// the detail, and the detail itself is recognised instead.
func head(b []byte) []byte {
	return b[:min(len(b), 512)]
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// stringValue finds the first occurrence of key (with its quotes) and
// returns the JSON string that follows its colon, without unescaping.
func stringValue(b []byte, key string) ([]byte, bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, false
	}
	rest := trimSpace(b[i+len(key):])
	if len(rest) == 0 || rest[0] != ':' {
		return nil, false
	}
	rest = trimSpace(rest[1:])
	if len(rest) == 0 || rest[0] != '"' {
		return nil, false
	}
	rest = rest[1:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 {
		return nil, false
	}
	return rest[:end], true
}
