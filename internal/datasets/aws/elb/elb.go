// Package elb is the aws.elb dataset: Elastic Load Balancing access logs as
// AWS writes them to S3, one request or connection a line, for Application
// Load Balancers (HTTP), Network Load Balancers (TLS listeners) and Classic
// Load Balancers (HTTP and TCP).
package elb

import (
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// Name is the dataset's name and event.dataset value.
const Name = "aws.elb"

// Options configure the dataset.
type Options struct {
	// Location is the zone of times written without one: Network Load
	// Balancer logs write "2018-12-20T02:59:40", which AWS means as UTC
	// (nil means UTC).
	Location *time.Location
}

// New returns the aws.elb dataset.
func New(opts Options) dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	return dataset.Dataset{
		Name:        Name,
		Description: "Elastic Load Balancing access logs (Application, Network with TLS listeners, Classic) from S3",
		Parser:      &parser{loc: loc},
		Claim:       Claim,
		Keys: []string{
			// Access logs are named {account}_elasticloadbalancing_...;
			// ALB connection logs (conn_log.*) are another format.
			"**/AWSLogs/*/elasticloadbalancing/*/*/*/*/[0-9]*_elasticloadbalancing_*.log.gz",
			// Classic Load Balancers write uncompressed objects.
			"**/AWSLogs/*/elasticloadbalancing/*/*/*/*/[0-9]*_elasticloadbalancing_*.log",
		},
	}
}

type parser struct {
	loc *time.Location
}

// albTypes are the first field of an Application Load Balancer line.
var albTypes = map[string]bool{"http": true, "https": true, "h2": true, "grpcs": true, "ws": true, "wss": true}

// Parse maps one access log line. The format is told by its first field:
// an ALB request type, "tls" for a Network Load Balancer, or a time for a
// Classic Load Balancer.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	line := strings.TrimRight(rec.String(), "\r\n")
	if strings.TrimSpace(line) == "" {
		return nil, nil
	}
	var buf [40]string
	t, ok := tokenize(line, buf[:0])
	if !ok {
		return nil, fmt.Errorf("elb: a quoted field is not closed")
	}
	ev := event.New(48)
	var err error
	switch {
	case albTypes[t[0]]:
		err = p.alb(ev, t)
	case t[0] == "tls":
		err = p.nlb(ev, t)
	case isTime(t[0]):
		err = p.classic(ev, t)
	default:
		err = fmt.Errorf("%.40q starts no access log format (an ALB request type, tls, or a time)", t[0])
	}
	if err != nil {
		return nil, fmt.Errorf("elb: %w", err)
	}
	ev.Set("event.kind", "event")
	ev.Set("cloud.provider", "aws")
	return []*event.Event{ev}, nil
}

// isTime is a cheap test for an ISO 8601 date-time: "2006-01-02T".
func isTime(s string) bool {
	return len(s) >= 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[0] >= '0' && s[0] <= '9'
}

// fieldError names a field by its position and AWS's name for it.
func fieldError(format string, i int, names []string, err error) error {
	name := "?"
	if i < len(names) {
		name = names[i]
	}
	return fmt.Errorf("%s field %d (%s): %w", format, i+1, name, err)
}

// setWeb sets the categorisation of an HTTP request.
func setWeb(ev *event.Event, status string) {
	ev.Set("event.category", []string{"web"})
	ev.Set("event.type", []string{"access"})
	ev.Set("network.protocol", "http")
	ev.Set("network.transport", "tcp")
	ev.Set("aws.elb.protocol", "http")
	setOutcome(ev, status)
}

// setConnection sets the categorisation of a TCP or TLS connection.
func setConnection(ev *event.Event) {
	ev.Set("event.category", []string{"network"})
	ev.Set("event.type", []string{"connection"})
	ev.Set("network.transport", "tcp")
	ev.Set("aws.elb.protocol", "tcp")
}
