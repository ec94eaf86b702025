package elb

import (
	"fmt"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// albFields are the Application Load Balancer's fields in AWS's order.
// AWS adds fields at the end and says to ignore any it has not documented,
// and older lines end earlier; the first 16 are always there.
var albFields = []string{
	"type", "time", "elb", "client:port", "target:port",
	"request_processing_time", "target_processing_time", "response_processing_time",
	"elb_status_code", "target_status_code", "received_bytes", "sent_bytes",
	"request", "user_agent", "ssl_cipher", "ssl_protocol",
	"target_group_arn", "trace_id", "domain_name", "chosen_cert_arn", "matched_rule_priority",
	"request_creation_time", "actions_executed", "redirect_url", "error_reason",
	"target:port_list", "target_status_code_list", "classification", "classification_reason",
	"conn_trace_id", "transformed_host", "transformed_uri", "request_transform_status",
}

const albMinFields = 16

func (p *parser) alb(ev *event.Event, t []string) error {
	if len(t) < albMinFields {
		return fmt.Errorf("application load balancer line has %d fields, want at least %d", len(t), albMinFields)
	}
	ts, err := parseTime(t[1], p.loc)
	if err != nil {
		return fieldError("alb", 1, albFields, err)
	}
	setTimestamp(ev, ts)
	ev.Set("event.end", ts)
	ev.SetString("aws.elb.type", t[0])
	setString(ev, "aws.elb.name", t[2])
	if err := setEndpoint(ev, "source", t[3]); err != nil {
		return fieldError("alb", 3, albFields, err)
	}
	if err := setEndpoint(ev, "destination", t[4]); err != nil {
		return fieldError("alb", 4, albFields, err)
	}
	if i, err := setProcessingTimes(ev, t[5:8]); err != nil {
		return fieldError("alb", 5+i, albFields, err)
	}
	if i, err := setHTTPCounts(ev, t[8:12]); err != nil {
		return fieldError("alb", 8+i, albFields, err)
	}
	setRequest(ev, t[12])
	setString(ev, "user_agent.original", t[13])
	setTLS(ev, t[14], t[15])
	setWeb(ev, t[8])
	return p.albTail(ev, t)
}

// albTail maps the fields after ssl_protocol that a line has.
func (p *parser) albTail(ev *event.Event, t []string) error {
	for i := albMinFields; i < len(t) && i < len(albFields); i++ {
		v := t[i]
		if v == "-" || v == "" {
			continue
		}
		switch albFields[i] {
		case "target_group_arn":
			ev.SetString("aws.elb.target_group.arn", v)
			setARNScope(ev, v)
		case "trace_id":
			ev.SetString("aws.elb.trace_id", v)
			ev.SetString("trace.id", v)
		case "domain_name":
			// The SNI name the client asked for in the TLS handshake.
			ev.SetString("tls.client.server_name", v)
		case "chosen_cert_arn":
			ev.SetString("aws.elb.chosen_cert.arn", v)
		case "matched_rule_priority":
			if err := setInt(ev, "aws.elb.matched_rule_priority", v); err != nil {
				return fieldError("alb", i, albFields, err)
			}
		case "request_creation_time":
			st, err := parseTime(v, p.loc)
			if err != nil {
				return fieldError("alb", i, albFields, err)
			}
			ev.Set("event.start", st)
		case "actions_executed":
			ev.Set("aws.elb.action_executed", strings.Split(v, ","))
		case "redirect_url":
			ev.SetString("aws.elb.redirect_url", v)
		case "error_reason":
			ev.SetString("aws.elb.error.reason", v)
		case "target:port_list":
			ev.Set("aws.elb.target_port", strings.Fields(v))
		case "target_status_code_list":
			ev.Set("aws.elb.target_status_code", strings.Fields(v))
		case "classification":
			ev.SetString("aws.elb.classification", v)
		case "classification_reason":
			ev.SetString("aws.elb.classification_reason", v)
		case "conn_trace_id":
			ev.SetString("aws.elb.conn_trace_id", v)
		case "transformed_host":
			ev.SetString("aws.elb.transformed_host", v)
		case "transformed_uri":
			ev.SetString("aws.elb.transformed_uri", v)
		case "request_transform_status":
			ev.SetString("aws.elb.request_transform_status", v)
		}
	}
	return nil
}

// processingTimes are the three processing times (seconds) shared by ALB
// and Classic, under Elastic's names, which call the target the backend.
var processingTimes = [...]string{
	"aws.elb.request_processing_time.sec",
	"aws.elb.backend_processing_time.sec",
	"aws.elb.response_processing_time.sec",
}

// setProcessingTimes maps the processing times; on error it says which of
// the three failed.
func setProcessingTimes(ev *event.Event, t []string) (int, error) {
	for i, name := range processingTimes {
		if err := setDuration(ev, name, t[i]); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// httpCounts are the load balancer's and the target's status codes and
// the request and response sizes (headers included, so http.*.bytes rather
// than body bytes).
var httpCounts = [...]string{
	"http.response.status_code",
	"aws.elb.backend.http.response.status_code",
	"http.request.bytes",
	"http.response.bytes",
}

// setHTTPCounts maps the status codes and sizes; on error it says which of
// the four failed.
func setHTTPCounts(ev *event.Event, t []string) (int, error) {
	for i, name := range httpCounts {
		if err := setInt(ev, name, t[i]); err != nil {
			return i, err
		}
	}
	return 0, nil
}
