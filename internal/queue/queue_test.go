package queue

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/store"
)

func TestLocalQueueIsDurableAndDeduplicates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	q := NewLocal(st)
	t0 := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	for _, k := range []string{"a", "b", "a"} {
		if err := q.Publish(ctx, Notification{Key: k, Dataset: "syslog", Size: 10, Created: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if n, bytes := q.Pending(); n != 2 || bytes != 20 {
		t.Fatalf("pending %d objects %d bytes, want 2 and 20", n, bytes)
	}
	got, err := q.Receive(ctx)
	if err != nil || got.Key != "a" {
		t.Fatalf("first %v %v", got, err)
	}
	// A delivered key is not delivered again until released.
	q.push(got)
	if n, _ := q.Pending(); n != 2 {
		t.Fatalf("re-pushing an in-flight key changed pending to %d", n)
	}
	q.Retry(ctx, got, time.Millisecond)
	second, _ := q.Receive(ctx)
	third, _ := q.Receive(ctx)
	if second.Key != "b" || third.Key != "a" {
		t.Fatalf("order %s %s, want b then the retried a", second.Key, third.Key)
	}
	q.Done(second)
	q.Done(third)
	if n, _ := q.Pending(); n != 0 {
		t.Fatalf("pending %d after done", n)
	}
	st.Close()

	// Nothing was marked finished in the store: a new queue finds both again.
	st, err = store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	q = NewLocal(st)
	n, err := q.Load(ctx)
	if err != nil || n != 2 {
		t.Fatalf("load %d %v, want 2", n, err)
	}
	cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	q.Receive(cctx)
	q.Receive(cctx)
	if _, err := q.Receive(cctx); err == nil {
		t.Fatal("an empty queue delivered something")
	}
}
