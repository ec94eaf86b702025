package elb

import (
	"fmt"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// nlbFields are the Network Load Balancer's fields in AWS's order (TLS
// listeners only: AWS writes no access log for plain TCP or UDP). Log
// version 1.0 lines stop after domain_name.
var nlbFields = []string{
	"type", "version", "time", "elb", "listener", "client:port", "destination:port",
	"connection_time", "tls_handshake_time", "received_bytes", "sent_bytes",
	"incoming_tls_alert", "chosen_cert_arn", "chosen_cert_serial", "tls_cipher",
	"tls_protocol_version", "tls_named_group", "domain_name",
	"alpn_fe_protocol", "alpn_be_protocol", "alpn_client_preference_list",
	"tls_connection_creation_time",
}

const nlbMinFields = 18

func (p *parser) nlb(ev *event.Event, t []string) error {
	if len(t) < nlbMinFields {
		return fmt.Errorf("network load balancer line has %d fields, want at least %d", len(t), nlbMinFields)
	}
	ts, err := parseTime(t[2], p.loc)
	if err != nil {
		return fieldError("nlb", 2, nlbFields, err)
	}
	// The time the TLS connection ended.
	setTimestamp(ev, ts)
	ev.Set("event.end", ts)
	ev.SetString("aws.elb.type", t[0])
	setString(ev, "aws.elb.version", t[1])
	setString(ev, "aws.elb.name", t[3])
	setString(ev, "aws.elb.listener", t[4])
	if err := setEndpoint(ev, "source", t[5]); err != nil {
		return fieldError("nlb", 5, nlbFields, err)
	}
	if err := setEndpoint(ev, "destination", t[6]); err != nil {
		return fieldError("nlb", 6, nlbFields, err)
	}
	for i, name := range [...]string{"aws.elb.connection_time.ms", "aws.elb.tls_handshake_time.ms"} {
		if err := setDuration(ev, name, t[7+i]); err != nil {
			return fieldError("nlb", 7+i, nlbFields, err)
		}
	}
	if err := setInt(ev, "source.bytes", t[9]); err != nil {
		return fieldError("nlb", 9, nlbFields, err)
	}
	if err := setInt(ev, "destination.bytes", t[10]); err != nil {
		return fieldError("nlb", 10, nlbFields, err)
	}
	setString(ev, "aws.elb.incoming_tls_alert", t[11])
	if t[12] != "-" {
		ev.SetString("aws.elb.chosen_cert.arn", t[12])
		setARNScope(ev, t[12])
	}
	setString(ev, "aws.elb.chosen_cert.serial", t[13])
	setTLS(ev, t[14], t[15])
	setString(ev, "tls.curve", t[16])
	setString(ev, "tls.client.server_name", t[17])
	setConnection(ev)
	return p.nlbTail(ev, t)
}

func (p *parser) nlbTail(ev *event.Event, t []string) error {
	// The negotiated ALPN protocol is what the connection tunnels.
	setString(ev, "tls.next_protocol", get(t, 18))
	setString(ev, "aws.elb.alpn_be_protocol", get(t, 19))
	if v := get(t, 20); v != "-" {
		// Written as "h2","http/1.1": the tokenizer dropped the outer
		// quotes, so the names are separated by `","`.
		ev.Set("aws.elb.alpn_client_preference_list", strings.Split(v, `","`))
	}
	if v := get(t, 21); v != "-" {
		st, err := parseTime(v, p.loc)
		if err != nil {
			return fieldError("nlb", 21, nlbFields, err)
		}
		ev.Set("event.start", st)
	}
	return nil
}
