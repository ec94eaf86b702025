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

// Columns lists the promoted columns in table order: ECS fields copied out
// of each event so that filters on them are column scans. The document
// itself is not stored: it is re-derived from the block's raw records (see
// blocks), which keeps the store small.
var Columns = []Column{
	{"@timestamp", "ts", Time},
	{"event.dataset", "dataset", Text},
	{"event.kind", "event_kind", Text},
	{"event.action", "event_action", Text},
	{"event.category", "event_category", TextList},
	{"event.outcome", "event_outcome", Text},
	{"event.severity", "event_severity", Int},
	{"host.name", "host_name", Text},
	{"process.name", "process_name", Text},
	{"source.ip", "source_ip", IP},
	{"source.port", "source_port", Int},
	{"destination.ip", "destination_ip", IP},
	{"destination.port", "destination_port", Int},
	{"user.name", "user_name", Text},
	{"related.ip", "related_ip", IPList},
	{"related.user", "related_user", TextList},
	{"related.hosts", "related_hosts", TextList},
	// related.hash is not promoted: hashes are rare, long, random tokens,
	// which the block filters find as well as a column would, and as a
	// column they were 4 % of the whole store (45 MB at 10 M events).
}

// EventsDDL creates the events table: the promoted columns, then where the
// event comes from: its block, the record's offset in the block, and the
// event's position among the record's events.
const EventsDDL = `CREATE TABLE IF NOT EXISTS events (
	ts TIMESTAMP NOT NULL,
	dataset VARCHAR NOT NULL,
	event_kind VARCHAR,
	event_action VARCHAR,
	event_category VARCHAR[],
	event_outcome VARCHAR,
	event_severity BIGINT,
	host_name VARCHAR,
	process_name VARCHAR,
	source_ip VARCHAR,
	source_port BIGINT,
	destination_ip VARCHAR,
	destination_port BIGINT,
	user_name VARCHAR,
	related_ip VARCHAR[],
	related_user VARCHAR[],
	related_hosts VARCHAR[],
	blk BIGINT NOT NULL,
	off INTEGER NOT NULL,
	sub INTEGER NOT NULL
)`

// BlocksDDL creates the blocks table: one row per group of consecutive
// records of one archive object. The records themselves (zstd-packed
// envelope NDJSON, the archive's format) and the Bloom filter of their tokens
// are in the block's file (see blockfile.go).
const BlocksDDL = `CREATE TABLE IF NOT EXISTS blocks (
	blk BIGINT PRIMARY KEY,
	object VARCHAR NOT NULL,
	dataset VARCHAR NOT NULL,
	first_record BIGINT NOT NULL,
	records INTEGER NOT NULL,
	events INTEGER NOT NULL,
	min_ts TIMESTAMP,
	max_ts TIMESTAMP,
	ingested TIMESTAMP NOT NULL
)`
