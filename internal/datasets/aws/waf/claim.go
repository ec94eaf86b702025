package waf

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// Claim recognises a WAF log record that arrives unnamed: a JSON object
// holding both a "webaclId" and an "httpRequest" key. Two substring
// searches, no decoding. It looks at the record as it arrived: WAF logs do
// not travel over syslog, and the parser reads bare JSON only.
func Claim(l dataset.Line) bool {
	data := bytes.TrimLeft(l.Data, " \t\r\n")
	if len(data) == 0 || data[0] != '{' {
		return false
	}
	return bytes.Contains(data, []byte(`"webaclId"`)) && bytes.Contains(data, []byte(`"httpRequest"`))
}
