package fortinet

import (
	"bytes"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// Device id prefixes of FortiGate models: FortiGate (FG, FGT, FGVM) and
// FortiWiFi (FWF), which runs FortiOS and logs the same way. Other Fortinet
// products (FortiWeb FV, FortiMail FE, FortiAnalyzer FAZ) log differently.
var devidPrefixes = [][]byte{
	[]byte(`devid="FG`), []byte(`devid=FG`),
	[]byte(`devid="FWF`), []byte(`devid=FWF`),
}

var logidKey = []byte("logid=")

// Claim recognises a FortiGate log by its device id and log id pairs,
// wherever they sit in the record (with or without a syslog header).
func Claim(l dataset.Line) bool {
	b := l.Body
	if !bytes.Contains(b, logidKey) {
		return false
	}
	for _, p := range devidPrefixes {
		if i := bytes.Index(b, p); i >= 0 && (i == 0 || b[i-1] == ' ' || b[i-1] == '"' || b[i-1] == '\t') {
			return true
		}
	}
	return false
}
