// Package waf is the aws.waf dataset: AWS WAF web ACL traffic logs, one
// JSON record a line, as Amazon Data Firehose or WAF's direct S3 delivery
// writes them.
package waf

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// Name is the dataset's name and event.dataset value.
const Name = "aws.waf"

// Options configure the dataset. WAF records carry epoch milliseconds, so
// no zone or clock is needed; the type keeps the constructor's shape the
// same as every other dataset's.
type Options struct{}

// New returns the aws.waf dataset.
func New(opts Options) dataset.Dataset {
	return dataset.Dataset{
		Name:        Name,
		Description: "AWS WAF web ACL logs (JSON) from Amazon Data Firehose or direct S3 delivery",
		Parser:      dataset.ParserFunc(parse),
		Claim:       Claim,
		Keys: []string{
			// Firehose streams for WAF must be named aws-waf-logs-*;
			// their objects are named after the stream, and operators
			// often use the name as the prefix too.
			"**/aws-waf-logs-*/**",
			// Direct delivery: AWSLogs/{account}/WAFLogs/{region}/{acl}/...
			"**/AWSLogs/*/WAFLogs/**/*.log.gz",
		},
	}
}

var errNotWAF = errors.New("record has neither webaclId nor httpRequest: not a WAF log")

// parse maps one WAF log record.
func parse(rec dataset.Record) ([]*event.Event, error) {
	data := bytes.TrimSpace(rec.Data)
	if len(data) == 0 {
		return nil, nil
	}
	r, err := decode(data)
	if err != nil {
		return nil, fmt.Errorf("waf: %w", err)
	}
	if r.WebACLID == "" && r.HTTPRequest == nil {
		return nil, fmt.Errorf("waf: %w", errNotWAF)
	}
	ev := event.New(48)
	if r.Timestamp > 0 {
		ev.Set(event.FieldTimestamp, time.UnixMilli(r.Timestamp).UTC())
	}
	ev.Set("event.kind", "event")
	ev.Set("cloud.provider", "aws")
	setDecision(ev, r)
	setACL(ev, r.WebACLID)
	setRules(ev, r)
	if r.HTTPRequest != nil {
		setRequest(ev, r.HTTPRequest)
	}
	setExtras(ev, r)
	return []*event.Event{ev}, nil
}

// setDecision categorises the request by the web ACL's terminating action.
// Elastic's categorisation (the sample documents list "web" only) and its
// upper-case action are kept, so that searches agree with it.
func setDecision(ev *event.Event, r *record) {
	ev.Set("event.category", []string{"web"})
	ev.SetString("event.action", r.Action)
	switch r.Action {
	case "ALLOW":
		ev.Set("event.type", []string{"access", "allowed"})
		ev.Set("event.outcome", "success")
	case "BLOCK", "CAPTCHA", "CHALLENGE":
		// A terminating CAPTCHA or CHALLENGE answered the request with
		// a puzzle instead of passing it on: it was stopped.
		ev.Set("event.type", []string{"access", "denied"})
		ev.Set("event.outcome", "failure")
	default:
		ev.Set("event.type", []string{"access"})
	}
}
