package search

import (
	"container/list"
	"context"
	"sync"

	"github.com/mamori-sec/mamori/internal/store"
)

// blockCache keeps recently read blocks unpacked, up to a byte budget, so
// that paging through a result or checking many rows of one block reads
// and unpacks it once.
type blockCache struct {
	st     *store.Store
	budget int64

	mu      sync.Mutex
	size    int64
	lru     *list.List // of *cacheEntry, most recent first
	entries map[int64]*list.Element
}

type cacheEntry struct {
	blk   int64
	size  int64
	ready chan struct{} // closed once data or err is set
	data  *store.BlockData
	err   error
}

func newBlockCache(st *store.Store, budget int64) *blockCache {
	return &blockCache{st: st, budget: budget, lru: list.New(), entries: map[int64]*list.Element{}}
}

// get returns the block, reading it once even when asked concurrently.
func (c *blockCache) get(ctx context.Context, blk int64) (*store.BlockData, error) {
	c.mu.Lock()
	if el, ok := c.entries[blk]; ok {
		c.lru.MoveToFront(el)
		ent := el.Value.(*cacheEntry)
		c.mu.Unlock()
		<-ent.ready
		return ent.data, ent.err
	}
	ent := &cacheEntry{blk: blk, ready: make(chan struct{})}
	c.entries[blk] = c.lru.PushFront(ent)
	c.mu.Unlock()

	d, err := c.st.ReadBlock(ctx, blk)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		ent.err = err
		close(ent.ready)
		// Failures are not kept: the next reader tries again.
		if el, ok := c.entries[blk]; ok && el.Value == ent {
			c.lru.Remove(el)
			delete(c.entries, blk)
		}
		return nil, err
	}
	ent.data = &d
	for _, r := range d.Records {
		ent.size += int64(len(r.Data)) + 64
	}
	c.size += ent.size
	close(ent.ready)
	for c.size > c.budget && c.lru.Len() > 1 {
		el := c.lru.Back()
		old := el.Value.(*cacheEntry)
		c.lru.Remove(el)
		delete(c.entries, old.blk)
		c.size -= old.size
	}
	return ent.data, nil
}
