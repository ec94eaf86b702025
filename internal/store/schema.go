package store

// Column describes one promoted column of the events table: an ECS field
// copied out of the document so that filters on it are column scans.
type Column struct {
	Field string // ECS field name
	Name  string // SQL column name
	Type  ColumnType
}

// ColumnType is the kind of value a promoted column holds.
type ColumnType int

// Column types.
const (
	Text     ColumnType = iota // VARCHAR
	IP                         // VARCHAR holding a canonical IP address
	Int                        // INTEGER / BIGINT
	Time                       // TIMESTAMP (UTC)
	TextList                   // VARCHAR[]
	IPList                     // VARCHAR[] of canonical IP addresses
)

// Columns lists the promoted columns in table order. Fields not listed here
// live only in the doc column (nested ECS JSON), except event.original and
// message, which have columns of their own and are left out of doc.
var Columns = []Column{
	{"@timestamp", "ts", Time},
	{"event.id", "id", Text},
	{"event.dataset", "dataset", Text},
	{"host.name", "host_name", Text},
	{"source.ip", "source_ip", IP},
	{"source.port", "source_port", Int},
	{"destination.ip", "destination_ip", IP},
	{"destination.port", "destination_port", Int},
	{"user.name", "user_name", Text},
	{"event.action", "event_action", Text},
	{"event.category", "event_category", TextList},
	{"event.outcome", "event_outcome", Text},
	{"related.ip", "related_ip", IPList},
	{"related.user", "related_user", TextList},
	{"related.hosts", "related_hosts", TextList},
	{"related.hash", "related_hash", TextList},
	{"message", "message", Text},
	{"event.original", "original", Text},
}

// DocColumn holds the rest of the document as nested ECS JSON.
const DocColumn = "doc"

// EventsDDL creates the events table.
const EventsDDL = `CREATE TABLE IF NOT EXISTS events (
	ts TIMESTAMP NOT NULL,
	id VARCHAR NOT NULL,
	dataset VARCHAR NOT NULL,
	host_name VARCHAR,
	source_ip VARCHAR,
	source_port INTEGER,
	destination_ip VARCHAR,
	destination_port INTEGER,
	user_name VARCHAR,
	event_action VARCHAR,
	event_category VARCHAR[],
	event_outcome VARCHAR,
	related_ip VARCHAR[],
	related_user VARCHAR[],
	related_hosts VARCHAR[],
	related_hash VARCHAR[],
	message VARCHAR,
	original VARCHAR,
	doc VARCHAR
)`
