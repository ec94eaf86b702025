// Package queue carries object-created notifications from whoever writes an
// archive object (intake, an external writer found by a scan) to the
// processor.
//
// The embedded queue is durable through the store's objects table: a
// notification is published only once its row is committed, and on start
// every object not yet finished is queued again.
package queue

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/store"
)

// Notification says an object exists in the archive and must be processed.
type Notification struct {
	Key     string
	Dataset string
	Size    int64
	Created time.Time
}

// Local is the in-process queue, durable in the state database.
type Local struct {
	st *store.Store

	mu      sync.Mutex
	fifo    []Notification
	members map[string]bool // queued or in flight: a key is delivered once at a time
	bytes   int64           // size of the queued and in-flight objects
	signal  chan struct{}
	closed  bool
}

// NewLocal returns an empty queue on st; call Load to queue what an earlier
// run left unfinished.
func NewLocal(st *store.Store) *Local {
	return &Local{st: st, members: map[string]bool{}, signal: make(chan struct{}, 1)}
}

// Load queues every object the store knows but has not finished.
func (q *Local) Load(ctx context.Context) (int, error) {
	n := 0
	for {
		pending, err := q.st.PendingObjects(ctx, 100000)
		if err != nil {
			return n, fmt.Errorf("queue load: %w", err)
		}
		added := 0
		for _, o := range pending {
			if q.push(Notification{Key: o.Key, Dataset: o.Dataset, Size: o.Size, Created: o.Created}) {
				added++
			}
		}
		n += added
		if len(pending) < 100000 || added == 0 {
			return n, nil
		}
	}
}

// Publish records the object durably, then queues it. Publishing a known
// object again is a no-op.
func (q *Local) Publish(ctx context.Context, n Notification) error {
	added, err := q.st.AddObject(ctx, store.Object{Key: n.Key, Dataset: n.Dataset, Size: n.Size, Created: n.Created})
	if err != nil {
		return fmt.Errorf("publish %s: %w", n.Key, err)
	}
	if added {
		q.push(n)
	}
	return nil
}

func (q *Local) push(n Notification) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.members[n.Key] || q.closed {
		return false
	}
	q.members[n.Key] = true
	q.bytes += n.Size
	q.fifo = append(q.fifo, n)
	select {
	case q.signal <- struct{}{}:
	default:
	}
	return true
}

// Receive waits for the next notification. The caller must call Done (or
// Retry) with it when finished.
func (q *Local) Receive(ctx context.Context) (Notification, error) {
	for {
		q.mu.Lock()
		if len(q.fifo) > 0 {
			n := q.fifo[0]
			q.fifo[0] = Notification{}
			q.fifo = q.fifo[1:]
			more := len(q.fifo) > 0
			q.mu.Unlock()
			if more {
				// wake the next waiting worker
				select {
				case q.signal <- struct{}{}:
				default:
				}
			}
			return n, nil
		}
		q.mu.Unlock()
		select {
		case <-ctx.Done():
			return Notification{}, ctx.Err()
		case <-q.signal:
		}
	}
}

// Done releases a delivered notification.
func (q *Local) Done(n Notification) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.members[n.Key] {
		delete(q.members, n.Key)
		q.bytes -= n.Size
	}
}

// Retry queues a delivered notification again after a delay.
func (q *Local) Retry(ctx context.Context, n Notification, after time.Duration) {
	q.Done(n)
	go func() {
		t := time.NewTimer(after)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
			q.push(n)
		}
	}()
}

// Pending returns the number and total size of queued and in-flight objects.
func (q *Local) Pending() (objects int, bytes int64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.members), q.bytes
}

// Close stops accepting notifications.
func (q *Local) Close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
}
