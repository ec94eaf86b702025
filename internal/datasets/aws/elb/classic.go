package elb

import (
	"fmt"

	"github.com/mamori-sec/mamori/internal/event"
)

// classicFields are the Classic Load Balancer's fields in AWS's order; the
// user agent and TLS fields came later, so older lines stop after the
// request.
var classicFields = []string{
	"time", "elb", "client:port", "backend:port",
	"request_processing_time", "backend_processing_time", "response_processing_time",
	"elb_status_code", "backend_status_code", "received_bytes", "sent_bytes",
	"request", "user_agent", "ssl_cipher", "ssl_protocol",
}

const classicMinFields = 12

func (p *parser) classic(ev *event.Event, t []string) error {
	if len(t) < classicMinFields {
		return fmt.Errorf("classic load balancer line has %d fields, want at least %d", len(t), classicMinFields)
	}
	ts, err := parseTime(t[0], p.loc)
	if err != nil {
		return fieldError("classic", 0, classicFields, err)
	}
	// A Classic line's time is when the request arrived.
	setTimestamp(ev, ts)
	ev.Set("event.start", ts)
	setString(ev, "aws.elb.name", t[1])
	if err := setEndpoint(ev, "source", t[2]); err != nil {
		return fieldError("classic", 2, classicFields, err)
	}
	if err := setEndpoint(ev, "destination", t[3]); err != nil {
		return fieldError("classic", 3, classicFields, err)
	}
	if i, err := setProcessingTimes(ev, t[4:7]); err != nil {
		return fieldError("classic", 4+i, classicFields, err)
	}
	if len(t) > 13 {
		setTLS(ev, t[13], get(t, 14))
	}
	// A TCP or SSL listener logs no request: status "-", request "- - - ".
	if t[7] == "-" && (t[11] == "- - - " || t[11] == "- - -") {
		setConnection(ev)
		if err := setInt(ev, "source.bytes", t[9]); err != nil {
			return fieldError("classic", 9, classicFields, err)
		}
		if err := setInt(ev, "destination.bytes", t[10]); err != nil {
			return fieldError("classic", 10, classicFields, err)
		}
		return nil
	}
	if i, err := setHTTPCounts(ev, t[7:11]); err != nil {
		return fieldError("classic", 7+i, classicFields, err)
	}
	setRequest(ev, t[11])
	if len(t) > 12 {
		setString(ev, "user_agent.original", t[12])
	}
	setWeb(ev, t[7])
	return nil
}

// get returns t[i], or "-" (absent) past the end of a short line.
func get(t []string, i int) string {
	if i < len(t) {
		return t[i]
	}
	return "-"
}
