package auth

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/intake"
)

type sink struct {
	mu      sync.Mutex
	batches []intake.Batch
	fail    error
}

func (s *sink) Write(_ context.Context, b intake.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, b)
	return nil
}

func TestAuditorBatchesAndRetries(t *testing.T) {
	c := newClock()
	k := &sink{fail: errors.New("archive down")}
	a := NewAuditor(k, nil, c.Now)
	a.Record(mamoriaudit.Record{Action: mamoriaudit.ActionLogin, Outcome: mamoriaudit.Success, User: "alice", SourceIP: "192.0.2.1"})
	a.Record(mamoriaudit.Record{Action: mamoriaudit.ActionLogout, Outcome: mamoriaudit.Success, User: "alice"})
	if err := a.Flush(context.Background()); err == nil {
		t.Fatal("a failed write is not reported")
	}
	if a.Pending() != 2 {
		t.Fatalf("%d records kept after a failed write, want 2", a.Pending())
	}
	k.fail = nil
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(k.batches) != 1 || len(k.batches[0].Records) != 2 || k.batches[0].Dataset != mamoriaudit.Name {
		t.Fatalf("batches %+v", k.batches)
	}
	var r mamoriaudit.Record
	rec := k.batches[0].Records[0]
	if err := json.Unmarshal(rec.Data, &r); err != nil {
		t.Fatal(err)
	}
	if r.User != "alice" || !r.Time.Equal(c.Now()) || rec.Peer != "192.0.2.1" || !rec.Received.Equal(c.Now()) {
		t.Errorf("record %+v (peer %q)", r, rec.Peer)
	}
	if err := a.Flush(context.Background()); err != nil || len(k.batches) != 1 {
		t.Error("an empty flush wrote a batch")
	}
}
