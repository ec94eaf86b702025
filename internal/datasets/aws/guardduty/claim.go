package guardduty

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// Claim recognises GuardDuty findings that arrive unnamed, by bytes only:
//
//   - an EventBridge event whose detail-type is "GuardDuty Finding";
//   - a finding (or a list of them): "schemaVersion", "type" and a
//     "serviceName" of "guardduty", camelCase as GuardDuty writes it or
//     PascalCase as the AWS CLI prints it.
//
// Security Hub's copies of findings (ASFF) name the service only inside
// "aws/guardduty/service/serviceName" and are not claimed. A syslog header
// in front is allowed (the body is looked at).
func Claim(l dataset.Line) bool {
	b := trimSpace(l.Body)
	if len(b) < 2 || b[0] != '{' {
		return false
	}
	if v, _, ok := stringValue(head(b), `"detail-type"`); ok {
		return string(v) == "GuardDuty Finding"
	}
	if bytes.Contains(b, []byte(`"schemaVersion"`)) && bytes.Contains(b, []byte(`"type"`)) {
		return hasValue(b, `"serviceName"`, "guardduty")
	}
	if bytes.Contains(b, []byte(`"SchemaVersion"`)) && bytes.Contains(b, []byte(`"Type"`)) {
		return hasValue(b, `"ServiceName"`, "guardduty")
	}
	return false
}

// hasValue reports whether some occurrence of key has the string value
// want (an API call finding also names the called service "serviceName").
func hasValue(b []byte, key, want string) bool {
	for {
		v, rest, ok := stringValue(b, key)
		if !ok {
			return false
		}
		if string(v) == want {
			return true
		}
		b = rest
	}
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
// returns the JSON string that follows its colon, without unescaping (nil
// when the value is no string), and the text after the key.
func stringValue(b []byte, key string) (value, rest []byte, found bool) {
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return nil, nil, false
	}
	rest = b[i+len(key):]
	v := trimSpace(rest)
	if len(v) == 0 || v[0] != ':' {
		return nil, rest, true
	}
	v = trimSpace(v[1:])
	if len(v) == 0 || v[0] != '"' {
		return nil, rest, true
	}
	v = v[1:]
	end := bytes.IndexByte(v, '"')
	if end < 0 {
		return nil, rest, true
	}
	return v[:end], rest, true
}
