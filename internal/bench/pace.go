package bench

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// paceTick is how often a paced connection sends what is due.
const paceTick = 10 * time.Millisecond

// maxBurst bounds one write of a paced connection, in seconds of its rate:
// a connection that fell behind (the server pushed back) catches up in
// writes of this size.
const maxBurst = 0.1

// paceLines sends the lines of pool, round and round, over conns TCP
// connections to addr, RFC 6587 octet-counted, at rate lines a second in
// all, for d or until ctx ends. A connection the server slows down
// (back-pressure) sends what it owes as soon as it can, so the rate
// achieved is the lower of the target and what the server takes. It
// returns the lines sent.
func paceLines(ctx context.Context, addr string, pool [][]byte, conns int, rate float64, d time.Duration) (int64, error) {
	if len(pool) == 0 || conns <= 0 || rate <= 0 {
		return 0, fmt.Errorf("pace: nothing to send (%d lines, %d connections, rate %v)", len(pool), conns, rate)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	per := rate / float64(conns)
	for i := range conns {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			cancel(err)
			wg.Wait()
			return sent.Load(), fmt.Errorf("connect to syslog %s: %w", addr, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			stop := context.AfterFunc(ctx, func() { _ = c.SetWriteDeadline(time.Unix(1, 0)) })
			defer stop()
			// Each connection starts at its own place in the pool.
			next := i * len(pool) / conns
			var mine int64
			var buf []byte
			burst := max(int64(per*maxBurst), 1)
			for ctx.Err() == nil {
				elapsed := time.Since(start)
				if elapsed >= d {
					return
				}
				due := int64(per*elapsed.Seconds()) - mine
				if due <= 0 {
					time.Sleep(paceTick)
					continue
				}
				buf = buf[:0]
				n := min(due, burst)
				for range n {
					line := pool[next]
					next = (next + 1) % len(pool)
					buf = strconv.AppendInt(buf, int64(len(line)), 10)
					buf = append(buf, ' ')
					buf = append(buf, line...)
				}
				if _, err := c.Write(buf); err != nil {
					cancel(fmt.Errorf("write syslog: %w", err))
					return
				}
				mine += n
				sent.Add(n)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
		return sent.Load(), err
	}
	return sent.Load(), nil
}
