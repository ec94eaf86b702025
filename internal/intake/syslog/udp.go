package syslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
)

// udpQueueBatches is how many full batches the UDP reader may get ahead of
// the sink. Past it the reader waits and the kernel buffer (ReadBuffer)
// absorbs the rest; what overflows that is dropped and counted.
const udpQueueBatches = 8

// maxPeerNames bounds the cache of sender address strings.
const maxPeerNames = 4096

// UDPListener receives one syslog message per datagram.
type UDPListener struct {
	cfg  Config
	sink intake.Sink
	log  *slog.Logger
	m    listenerMetrics
	now  func() time.Time

	conn         *net.UDPConn
	queue        chan intake.Batch
	writer       batchWriter
	cancelWrites context.CancelFunc
	ctxWatch     contextWatch
	wg           sync.WaitGroup
	closeOnce    sync.Once
}

// NewUDP makes a UDP listener; Start binds it.
func NewUDP(cfg Config, sink intake.Sink, logger *slog.Logger, opts ...Option) (*UDPListener, error) {
	cfg, err := cfg.withDefaults(true)
	if err != nil {
		return nil, err
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	if sink == nil {
		return nil, fmt.Errorf("syslog listener %s: nil sink", cfg.Name)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &UDPListener{
		cfg:  cfg,
		sink: sink,
		log:  logger.With("listener", cfg.Name, "address", cfg.Address),
		m:    o.metrics.forListener(cfg.Name),
		now:  o.now,
	}, nil
}

// Start binds the socket and starts reading. Cancelling ctx closes the
// listener as Close does.
func (l *UDPListener) Start(ctx context.Context) error {
	if l.conn != nil {
		return fmt.Errorf("syslog listener %s: already started", l.cfg.Name)
	}
	var tuneErr error
	var rcvbuf int
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		rcvbuf, tuneErr = tuneUDPSocket(c, l.cfg.ReadBuffer)
		return nil
	}}
	pc, err := lc.ListenPacket(ctx, "udp", l.cfg.Address)
	if err != nil {
		return fmt.Errorf("syslog listener %s: listen udp %s: %w", l.cfg.Name, l.cfg.Address, err)
	}
	l.conn = pc.(*net.UDPConn)
	if rcvbuf < 0 { // not tuned by tuneUDPSocket on this platform
		tuneErr = l.conn.SetReadBuffer(l.cfg.ReadBuffer)
		rcvbuf = l.cfg.ReadBuffer
	}
	if tuneErr != nil {
		l.log.Warn("syslog udp socket tuning incomplete; datagrams may drop under load", "err", tuneErr)
	}
	if rcvbuf < l.cfg.ReadBuffer {
		l.log.Warn("syslog udp receive buffer is smaller than asked (raise net.core.rmem_max or grant CAP_NET_ADMIN)",
			"asked", l.cfg.ReadBuffer, "got", rcvbuf)
	}

	writeCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancelWrites = cancel
	l.queue = make(chan intake.Batch, udpQueueBatches)
	l.writer = batchWriter{sink: l.sink, log: l.log, m: &l.m, retry: l.cfg.RetryInterval, ctx: writeCtx}

	l.wg.Add(2)
	go l.read()
	go l.writeLoop()
	l.ctxWatch.start(ctx, func() { _ = l.Close() })
	l.log.Info("syslog udp listener started", "bound", l.conn.LocalAddr().String(), "read_buffer", rcvbuf)
	return nil
}

// Addr is the bound address (with the real port when the configured one was
// 0), or nil before Start.
func (l *UDPListener) Addr() net.Addr {
	if l.conn == nil {
		return nil
	}
	return l.conn.LocalAddr()
}

// Close stops reading, writes the records held (trying for at most
// ShutdownTimeout) and waits for the listener's goroutines to end.
func (l *UDPListener) Close() error {
	if l.conn == nil {
		return nil
	}
	var err error
	l.closeOnce.Do(func() {
		l.ctxWatch.stop()
		err = l.conn.Close()
		t := time.AfterFunc(l.cfg.ShutdownTimeout, l.cancelWrites)
		l.wg.Wait()
		t.Stop()
		l.cancelWrites()
		l.log.Info("syslog udp listener stopped")
	})
	if err != nil {
		return fmt.Errorf("syslog listener %s: close: %w", l.cfg.Name, err)
	}
	return nil
}

func (l *UDPListener) writeLoop() {
	defer l.wg.Done()
	for b := range l.queue {
		l.writer.write(b)
	}
}

// read owns the batch being built. It wakes at the batch's flush time by a
// read deadline, so no lock or timer goroutine is needed.
func (l *UDPListener) read() {
	defer l.wg.Done()
	defer close(l.queue)

	buf := make([]byte, maxUDPDatagram)
	oob := make([]byte, oobSize)
	b := newBatchBuilder(l.cfg)
	peers := make(map[netip.AddrPort]string)
	var kernelDrops uint32
	armed := false // whether a flush deadline is set

	flush := func() {
		if b.len() > 0 {
			l.queue <- b.take()
		}
		if armed {
			_ = l.conn.SetReadDeadline(time.Time{})
			armed = false
		}
	}

	for {
		n, oobn, flags, addr, err := l.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			switch {
			case errors.Is(err, os.ErrDeadlineExceeded):
				flush()
				continue
			case errors.Is(err, net.ErrClosed):
				flush()
				return
			}
			// Errors such as a refused ICMP reply are per datagram, not fatal.
			l.log.Warn("syslog udp read failed", "err", err)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		l.m.bytes.Add(float64(n))
		if total, ok := dropCount(oob[:oobn]); ok {
			// A cumulative per-socket count; uint32 arithmetic survives wrap.
			if d := total - kernelDrops; d > 0 {
				l.m.dropped.Add(float64(d))
			}
			kernelDrops = total
		}

		msg := trimTrailer(buf[:n])
		truncated := flags&msgTrunc != 0
		if len(msg) > l.cfg.MaxMessageSize {
			msg = msg[:l.cfg.MaxMessageSize]
			truncated = true
		}
		if truncated {
			l.m.truncated.Inc()
		}
		if len(msg) == 0 {
			l.m.dropped.Inc()
			continue
		}

		if !armed {
			_ = l.conn.SetReadDeadline(time.Now().Add(l.cfg.FlushInterval))
			armed = true
		}
		b.add(msg, l.now(), peerName(peers, addr))
		l.m.received.Inc()
		if b.bytes >= l.cfg.FlushBytes || b.len() >= l.cfg.FlushRecords {
			flush()
		}
	}
}

// peerName returns "ip:port" for addr, caching the strings so that a steady
// sender costs no allocation per datagram.
func peerName(cache map[netip.AddrPort]string, addr netip.AddrPort) string {
	if s, ok := cache[addr]; ok {
		return s
	}
	if len(cache) >= maxPeerNames {
		clear(cache)
	}
	s := netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port()).String()
	cache[addr] = s
	return s
}
