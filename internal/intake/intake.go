// Package intake holds what every listener shares: the raw record a listener
// produces and the Sink that makes batches of them durable.
package intake

import (
	"context"
	"errors"
	"time"
)

// Record is one raw record as a listener received it.
type Record struct {
	// Data is the record's bytes: one log line or JSON document, without
	// framing or trailing newline.
	Data []byte
	// Received is the time the listener read it.
	Received time.Time
	// Peer is the sender's address ("ip:port").
	Peer string
}

// Batch is a group of records for one dataset from one listener.
type Batch struct {
	Dataset  string
	Listener string // "syslog-udp", "syslog-tcp", "http", "import", ...
	Records  []Record
	// ID, when set, names the batch: its archive object's key is derived
	// from the dataset, ID and the batch's receive time instead of being
	// fresh, so writing the same batch twice (a poller re-fetching a page
	// after a crash) writes the same object, which is processed once.
	ID string
}

// Sink makes batches durable. Write returns nil only once the batch is safe
// in the archive; a listener acknowledges its sender only after that. Write
// may block to apply back-pressure and returns ErrBusy (wrapped) when it
// cannot accept more work now.
type Sink interface {
	Write(ctx context.Context, b Batch) error
}

// ErrBusy is returned (wrapped) by a Sink that is shedding load; listeners
// answer 429/503 or stop reading until it clears.
var ErrBusy = errors.New("intake busy: back-pressure")
