package store

// Column describes one promoted column of the events table: an ECS field
// copied out of the document so that filters on it are column scans.
type Column struct {
	Field string // ECS field name
	Name  string // SQL column name
	Type  ColumnType
	// V4, for an IP column, names a UINTEGER column that holds its IPv4
	// addresses as numbers (NULL for IPv6): a CIDR is then a range of
	// integers instead of a text test on every row (a /24 over 10 M
	// events: 19 ms instead of 112 ms).
	V4 string
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
	{"@timestamp", "ts", Time, ""},
	{"event.dataset", "dataset", Text, ""},
	{"event.kind", "event_kind", Text, ""},
	{"event.action", "event_action", Text, ""},
	{"event.category", "event_category", TextList, ""},
	{"event.outcome", "event_outcome", Text, ""},
	{"event.severity", "event_severity", Int, ""},
	{"host.name", "host_name", Text, ""},
	{"process.name", "process_name", Text, ""},
	{"source.ip", "source_ip", IP, "source_ip4"},
	{"source.port", "source_port", Int, ""},
	{"destination.ip", "destination_ip", IP, "destination_ip4"},
	{"destination.port", "destination_port", Int, ""},
	{"user.name", "user_name", Text, ""},
	{"related.ip", "related_ip", IPList, ""},
	{"related.user", "related_user", TextList, ""},
	{"related.hosts", "related_hosts", TextList, ""},
	// related.hash is not promoted: hashes are rare, long, random tokens,
	// which the block filters find as well as a column would, and as a
	// column they were 4 % of the whole store (45 MB at 10 M events).
}

// V4Columns are the V4 columns of Columns, in order: in the events table
// they follow sub (added after the table's first release).
func V4Columns() []Column {
	var out []Column
	for _, i := range v4Positions() {
		out = append(out, Columns[i])
	}
	return out
}

// v4Positions are the positions in Columns of the columns with a V4 twin,
// in order.
func v4Positions() []int {
	var out []int
	for i, c := range Columns {
		if c.V4 != "" {
			out = append(out, i)
		}
	}
	return out
}

// EventsDDL creates the events table: the promoted columns, then where the
// event comes from: its block, the record's offset in the block, and the
// event's position among the record's events; then the V4 columns.
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
	sub INTEGER NOT NULL,
	source_ip4 UINTEGER,
	destination_ip4 UINTEGER
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

// columnFinder finds a field's position in Columns. Building a row walks
// every field of an event (forty or so, most of them not promoted), so the
// test must be cheaper than a map's: an open-addressing table of positions
// keyed by the name's length and two of its bytes, which rules most names
// out without comparing them.
type columnFinder struct {
	slots [256]int8 // position in Columns + 1; 0 is empty
}

func newColumnFinder() *columnFinder {
	f := &columnFinder{}
	for i, c := range Columns {
		h := fieldSlot(c.Field)
		for f.slots[h] != 0 {
			h++
		}
		f.slots[h] = int8(i + 1)
	}
	return f
}

// find returns field's position in Columns, or -1.
func (f *columnFinder) find(field string) int {
	if field == "" {
		return -1
	}
	for h := fieldSlot(field); f.slots[h] != 0; h++ {
		if i := int(f.slots[h]) - 1; Columns[i].Field == field {
			return i
		}
	}
	return -1
}

func fieldSlot(field string) uint8 {
	return uint8(len(field)*13 + int(field[len(field)-1])*7 + int(field[len(field)/2]))
}
