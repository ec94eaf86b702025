// Package vpcflow is the aws.vpcflow dataset: Amazon VPC flow log records
// (plain text, space-separated, versions 2 to 8) as AWS delivers them to S3,
// with the object's header line naming the fields, or as exported from
// CloudWatch Logs, without one.
package vpcflow

import (
	"bytes"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// Name is the dataset's name and event.dataset value.
const Name = "aws.vpcflow"

// Options configure the dataset. Flow logs carry Unix times, so no zone or
// clock is needed; the type exists so that the constructor's shape matches
// every other dataset's and can grow.
type Options struct{}

// New returns the aws.vpcflow dataset.
func New(opts Options) dataset.Dataset {
	return dataset.Dataset{
		Name:        Name,
		Description: "Amazon VPC flow logs (text, default or custom format, versions 2-8) from S3 or CloudWatch Logs exports",
		Parser:      &parser{},
		Claim:       Claim,
		Keys: []string{
			// Parquet objects (.log.parquet) are not read: they are binary.
			"**/AWSLogs/*/vpcflowlogs/**/*.log.gz",
			// Hive-compatible prefixes (aws-account-id=.../aws-service=...).
			"**/AWSLogs/aws-account-id=*/aws-service=vpcflowlogs/**/*.log.gz",
		},
		HeaderLine: true,
	}
}

type parser struct {
	// last caches the layout of the last header line seen: every record
	// of an object carries the same header, so it is split once per
	// object rather than once per record. Parsers run concurrently, hence
	// the atomic pointer.
	last atomic.Pointer[cachedHeader]
}

type cachedHeader struct {
	raw  string
	cols []column // nil when the header is no header line
}

// maxFields bounds a record: AWS documents fewer than 50 fields, so a
// longer line is no flow log record and is not split further.
const maxFields = 64

// Parse maps one flow log record. A header line gives no event; a record
// whose number of fields matches neither its header nor a known layout is
// an error.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	line := strings.TrimRight(rec.String(), " \r\n\t")
	var buf [32]string
	tokens := splitFields(line, buf[:0])
	if len(tokens) == 0 {
		return nil, nil
	}
	if len(tokens) > maxFields {
		return nil, fmt.Errorf("vpcflow: %d fields: more than any flow log format has", len(tokens))
	}
	if _, ok := headerLayout(tokens); ok {
		return nil, nil
	}
	var exported time.Time
	if t, ok := exportTime(tokens[0]); ok {
		// A CloudWatch Logs export puts the ingestion time first.
		exported, tokens = t, tokens[1:]
	}
	cols, err := p.layout(rec.Header, len(tokens))
	if err != nil {
		return nil, err
	}
	ev := event.New(48)
	if err := mapRecord(ev, cols, tokens); err != nil {
		return nil, err
	}
	ev.Set(event.FieldCreated, exported)
	ev.SetIfAbsent(event.FieldTimestamp, exported)
	return []*event.Event{ev}, nil
}

// layout picks the columns for a record of n fields: its object's header
// line when it has one, else the known layout of that width.
func (p *parser) layout(header []byte, n int) ([]column, error) {
	if cols := p.headerColumns(header); cols != nil {
		if len(cols) != n {
			return nil, fmt.Errorf("vpcflow: record has %d fields but its header line names %d", n, len(cols))
		}
		return cols, nil
	}
	if cols, ok := defaultLayouts[n]; ok {
		return cols, nil
	}
	return nil, fmt.Errorf("vpcflow: %d fields match no known layout (14 for the default format; 21, 25 or 29 for every field up to version 3, 4 or 5) and no header line names them", n)
}

// headerColumns returns the layout named by an object's first line, or nil
// when there is none or it is a data line (a CloudWatch Logs export).
func (p *parser) headerColumns(header []byte) []column {
	if len(header) == 0 {
		return nil
	}
	if c := p.last.Load(); c != nil && c.raw == string(header) {
		return c.cols
	}
	raw := string(header)
	var buf [32]string
	cols, _ := headerLayout(splitFields(string(bytes.TrimRight(header, " \r\n\t")), buf[:0]))
	p.last.Store(&cachedHeader{raw: raw, cols: cols})
	return cols
}

// splitFields splits s at runs of spaces, appending to dst; it stops after
// maxFields+1 fields, which is already too many.
func splitFields(s string, dst []string) []string {
	for i := 0; i < len(s); {
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' {
			j++
		}
		dst = append(dst, s[i:j])
		if len(dst) > maxFields {
			break
		}
		i = j
	}
	return dst
}

// exportTime recognises the RFC 3339 time a CloudWatch Logs export writes
// before each message.
func exportTime(tok string) (time.Time, bool) {
	if len(tok) < 20 || tok[4] != '-' || tok[10] != 'T' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, tok)
	return t, err == nil
}
