package cylance

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// claim recognises, without parsing: the syslog program CylancePROTECT;
// a record naming the product followed by "Event Type:" or "Event
// Name:"; and a Cylance API threat, device or page of them.
func claim(l dataset.Line) bool {
	if l.App == "CylancePROTECT" {
		return true
	}
	if data := bytes.TrimLeft(l.Data, " \t"); len(data) > 0 && data[0] == '{' {
		return claimJSON(data)
	}
	for _, m := range markers {
		if i := bytes.Index(l.Body, []byte(m)); i >= 0 {
			rest := l.Body[i+len(m):]
			return bytes.Contains(rest, []byte("Event Type:")) || bytes.Contains(rest, []byte("Event Name:"))
		}
	}
	return false
}

// claimJSON recognises the API's threat objects by "cylance_score" and
// "sha256", and its device objects by "date_first_registered" and
// "agent_version", keys no other source uses together.
func claimJSON(data []byte) bool {
	return bytes.Contains(data, []byte(`"cylance_score"`)) && bytes.Contains(data, []byte(`"sha256"`)) ||
		bytes.Contains(data, []byte(`"date_first_registered"`)) && bytes.Contains(data, []byte(`"agent_version"`))
}
