package vpcflow

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// Claim recognises a flow log record that arrives unnamed: a line in the
// default field order (optionally behind a CloudWatch Logs export's time)
// whose version is a single digit from 2, whose account is digits or
// "unknown", whose interface is an eni- ID or "-", and which has at least 14
// fields; or a header line naming flow log fields. Custom formats that start
// elsewhere are recognised by their S3 key (see Keys), not by their lines.
func Claim(l dataset.Line) bool {
	data := l.Data
	if len(data) < 20 {
		return false
	}
	if data[0] >= 'a' && data[0] <= 'z' {
		return isHeader(data)
	}
	if data[0] >= '0' && data[0] <= '9' && len(data) > 20 && data[4] == '-' && data[10] == 'T' {
		// A CloudWatch Logs export: "2021-12-20T11:38:17.000Z 2 ...".
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			return false
		}
		if _, ok := exportTime(string(data[:sp])); !ok {
			return false
		}
		data = data[sp+1:]
	}
	return isDefaultRecord(data)
}

func isDefaultRecord(data []byte) bool {
	if len(data) < 2 || data[0] < '2' || data[0] > '9' || data[1] != ' ' {
		return false
	}
	rest := data[2:]
	account, rest, ok := cut(rest)
	if !ok || !(string(account) == "unknown" || string(account) == "-" || allDigits(account)) {
		return false
	}
	iface, _, ok := cut(rest)
	if !ok || !(string(iface) == "-" || len(iface) > 4 && string(iface[:4]) == "eni-") {
		return false
	}
	// 14 fields are 13 separating spaces.
	return bytes.Count(data, []byte{' '}) >= 13
}

// cut returns the token before the next space and what follows it.
func cut(b []byte) ([]byte, []byte, bool) {
	i := bytes.IndexByte(b, ' ')
	if i <= 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

func allDigits(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isHeader reports a header line whose every token is a documented field
// name: stricter than the parser's test, since a claimed line is not known
// to be a flow log at all.
func isHeader(data []byte) bool {
	n := 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, ' ')
		tok := data
		if i >= 0 {
			tok, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(tok) == 0 {
			continue
		}
		if _, ok := knownFields[string(tok)]; !ok {
			return false
		}
		n++
	}
	return n >= 2
}
