// Package dataset defines what a dataset is to the pipeline (a name and a
// parser from raw records to ECS events) and the explicit registry of them.
package dataset

import (
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// Record is one raw record read back from an archive object: usually one log
// line, or one JSON document.
type Record struct {
	// Data is the record exactly as received (no trailing newline).
	Data []byte
	// Text is Data as a string, when whoever read the record made one (the
	// pipeline does, once per record); "" otherwise. Parsers take the
	// record's text from String, so that one copy serves them all, and
	// event.original, and the values they slice from it share its memory
	// (which makes indexing them cheap: search.IndexBlock).
	Text string
	// Received is when mamori, or the writer of the object, received it.
	Received time.Time
	// Peer is the sender's address ("192.0.2.1:514"), "" when unknown.
	Peer string
	// Header is the first record of the record's archive object, for
	// datasets whose objects begin with a line naming the columns (see
	// Dataset.HeaderLine); nil otherwise. The header record itself is
	// also handed to the parser, which returns no events for it.
	Header []byte
}

// String returns the record's text: Text when it is set, a copy of Data
// otherwise.
func (r Record) String() string {
	if r.Text != "" && len(r.Text) == len(r.Data) {
		return r.Text
	}
	return string(r.Data)
}

// WithText returns the record with Text set, made from Data once.
func (r Record) WithText() Record {
	r.Text = r.String()
	return r
}

// Parser turns one record into ECS events.
//
// It returns one event per log event in the record (usually one; zero for a
// record that carries no event, such as a header line). It returns an error
// only when the record cannot be understood at all; the pipeline then keeps
// the record as a failed event with error.message set.
//
// Parsers set the fields the log carries, including @timestamp when the log
// has one, event.original when it differs from the record (an unwrapped
// fluentd line, for example), and event.dataset when the record turns out to
// belong to a more specific dataset than the one asked for (a syslog line
// that carries CEF). The pipeline sets event.id, event.ingested, a missing
// event.dataset, a missing event.original (the record) and a missing
// @timestamp (the receive time), and fills related.*.
type Parser interface {
	Parse(rec Record) ([]*event.Event, error)
}

// ParserFunc adapts a function to Parser.
type ParserFunc func(rec Record) ([]*event.Event, error)

// Parse calls f.
func (f ParserFunc) Parse(rec Record) ([]*event.Event, error) { return f(rec) }

// Dataset is a named source of events.
type Dataset struct {
	// Name is the event.dataset value, such as "syslog" or "aws.cloudtrail".
	Name string
	// Description is one line for `mamori help` and the docs.
	Description string
	// Parser parses this dataset's records, each exactly as it arrived
	// (with its syslog header, when it came over syslog).
	Parser Parser
	// Claim reports whether a record belongs to this dataset, for records
	// that arrive without one being named (a syslog listener, `mamori
	// parse` without --dataset). It is asked for every such record, in
	// registration order, so it must be cheap: a prefix, a program name, a
	// shape. nil claims nothing: the dataset is used only when named.
	Claim func(Line) bool
	// Keys are the archive key patterns of objects this dataset owns, such
	// as CloudTrail's "AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz" (see
	// MatchKey), for prefixes configured without a dataset.
	Keys []string
	// HeaderLine says that this dataset's objects may begin with a line
	// naming their columns (VPC flow logs with a custom format), so every
	// record is given its object's first record as Record.Header.
	HeaderLine bool
	// Verbatim lists field prefixes ("cef.extensions.") under which this
	// dataset copies text values from the record as they are written
	// there: a search then rules out records whose raw text lacks such a
	// value before parsing them. The promise covers every dataset that
	// writes under the prefix (the datasets package tests it on every
	// golden case); a value converted to a number or an address is
	// exempt, as searches for those compare by meaning.
	Verbatim []string
}

// Line is what Claim looks at: a record and, when it is a syslog message,
// the header's program name and the text after the header.
type Line struct {
	// Data is the record as it arrived.
	Data []byte
	// App is the syslog APP-NAME or TAG ("sshd"), "" when the record has
	// no syslog header or the header none.
	App string
	// Body is the syslog message's text, or Data when there is no header.
	Body []byte
}
