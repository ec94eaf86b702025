package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// LoadPhase is one transport's load: from the first byte sent until the
// server has stored every event of it.
type LoadPhase struct {
	Name        string  `json:"name"`
	Transport   string  `json:"transport"`
	Events      int64   `json:"events"`
	RawBytes    int64   `json:"raw_bytes"`
	WireBytes   int64   `json:"wire_bytes"`   // bytes sent: framing or compression included
	SendSeconds float64 `json:"send_seconds"` // until the last byte was sent (and acknowledged, for HTTP)
	Seconds     float64 `json:"seconds"`      // until every event was stored
	EventsPerS  float64 `json:"events_per_second"`
	MBPerS      float64 `json:"raw_mb_per_second"`
	Retries     int64   `json:"retries,omitempty"` // HTTP 429/503 answers retried
	ServerCPU   float64 `json:"server_cpu_seconds"`
	ClientCPU   float64 `json:"client_cpu_seconds"`
	// ServerCPUPerEvent is the server's CPU time per event, in
	// microseconds: steadier than events/s on a shared machine, and the
	// budget to meet (2 cores at 50,000 events/s leave 40 µs).
	ServerCPUPerEvent float64 `json:"server_cpu_us_per_event"`
}

// chunkBytes is how much the TCP sender writes at once.
const chunkBytes = 1 << 20

// sendLines sends every line of path to addr over conns TCP connections,
// RFC 6587 octet-counted. Chunks of whole lines go round-robin to the
// connections, so that all of them move through time together, as many
// senders of one network do.
func sendLines(ctx context.Context, addr, path string, conns int) (wire int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// A few buffers circulate between the reader and the writers, so the
	// sender's memory stays bounded.
	free := make(chan []byte, 2*conns+2)
	for range cap(free) {
		free <- make([]byte, 0, chunkBytes+64<<10)
	}
	queues := make([]chan []byte, conns)
	var wg sync.WaitGroup
	var sent atomic.Int64
	for i := range queues {
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			cancel(err)
			for _, q := range queues[:i] {
				close(q)
			}
			wg.Wait()
			return 0, fmt.Errorf("connect to syslog %s: %w", addr, err)
		}
		q := make(chan []byte, 2)
		queues[i] = q
		// A write blocked by the server's back-pressure ends when ctx does.
		unblock := context.AfterFunc(ctx, func() { _ = c.SetWriteDeadline(time.Unix(1, 0)) })
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			defer unblock()
			for buf := range q {
				if ctx.Err() == nil {
					n, err := c.Write(buf)
					sent.Add(int64(n))
					if err != nil {
						cancel(fmt.Errorf("write syslog: %w", err))
					}
				}
				free <- buf[:0]
			}
		}()
	}

	r := bufio.NewReaderSize(f, 1<<20)
	next := 0
	buf := <-free
	flush := func() bool {
		select {
		case queues[next] <- buf:
		case <-ctx.Done():
			return false
		}
		next = (next + 1) % conns
		select {
		case buf = <-free:
			return true
		case <-ctx.Done():
			return false
		}
	}
	var readErr error
	for ctx.Err() == nil {
		line, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			readErr = errors.New("a line longer than 1 MiB")
			break
		}
		if len(line) > 0 {
			line = bytes.TrimSuffix(line, []byte{'\n'})
			buf = strconv.AppendInt(buf, int64(len(line)), 10)
			buf = append(buf, ' ')
			buf = append(buf, line...)
			if len(buf) >= chunkBytes && !flush() {
				break
			}
		}
		if err == io.EOF {
			if len(buf) > 0 {
				flush()
			}
			break
		}
		if err != nil {
			readErr = err
			break
		}
	}
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
	if readErr != nil {
		return sent.Load(), fmt.Errorf("read %s: %w", path, readErr)
	}
	if err := context.Cause(ctx); err != nil {
		return sent.Load(), err
	}
	return sent.Load(), nil
}

// postJSON posts every frame of path (one zstd frame per request) to the
// json intake with posters concurrent requests, retrying on 429 and 503 as
// Retry-After says.
func postJSON(ctx context.Context, s *server, path string, frames []Frame, posters int) (wire, retries int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan Frame)
	var wg sync.WaitGroup
	var sent, retried atomic.Int64
	url := "http://" + s.http + "/api/v1/intake/json"
	for range posters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var body []byte
			for fr := range work {
				if ctx.Err() != nil {
					continue
				}
				if int64(cap(body)) < fr.Length {
					body = make([]byte, fr.Length)
				}
				body = body[:fr.Length]
				if _, err := f.ReadAt(body, fr.Offset); err != nil {
					cancel(fmt.Errorf("read %s: %w", path, err))
					continue
				}
				n, err := postFrame(ctx, s.client, url, body, fr.Records, &retried)
				if err != nil {
					cancel(err)
					continue
				}
				sent.Add(n)
			}
		}()
	}
	for _, fr := range frames {
		select {
		case work <- fr:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	return sent.Load(), retried.Load(), context.Cause(ctx)
}

// postFrame sends one compressed batch until the server takes it.
func postFrame(ctx context.Context, c *http.Client, url string, body []byte, records int, retried *atomic.Int64) (int64, error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return 0, err
		}
		req.Header.Set("Content-Encoding", "zstd")
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := c.Do(req)
		if err != nil {
			return 0, fmt.Errorf("post json batch: %w", err)
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK:
			return int64(len(body)), nil
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			retried.Add(1)
			wait := time.Second
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
				wait = time.Duration(s) * time.Second
			}
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		default:
			return 0, fmt.Errorf("post json batch of %d records: %s: %s", records, resp.Status, bytes.TrimSpace(msg))
		}
	}
}

// waitStored polls the server's stored-events counter until it reaches
// want, and returns when it did. It gives up when the count stops moving
// for stall, or the server dies.
func waitStored(ctx context.Context, s *server, want int64, stall time.Duration, logger *slog.Logger) (time.Time, error) {
	last, lastMove, lastLog := int64(-1), time.Now(), time.Now()
	for {
		if err := s.alive(); err != nil {
			return time.Time{}, err
		}
		v, err := s.metric(ctx, "mamori_events_stored_total")
		now := time.Now()
		if err == nil {
			n := int64(v)
			if n >= want {
				return now, nil
			}
			if n != last {
				last, lastMove = n, now
			}
			if now.Sub(lastLog) >= 10*time.Second {
				logger.Info("waiting for the server to store events", "stored", n, "want", want)
				lastLog = now
			}
		}
		if now.Sub(lastMove) > stall {
			return time.Time{}, fmt.Errorf("stored events stuck at %d of %d for %v (last error: %v)", last, want, stall, err)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}
