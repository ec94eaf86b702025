package syslog

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
)

// TCPListener receives framed syslog messages over TCP, or over TLS when
// Config.TLS names a certificate and key.
type TCPListener struct {
	cfg  Config
	sink intake.Sink
	log  *slog.Logger
	m    listenerMetrics
	now  func() time.Time

	ln           net.Listener
	writeCtx     context.Context
	cancelWrites context.CancelFunc
	ctxWatch     contextWatch
	wg           sync.WaitGroup
	closeOnce    sync.Once

	mu      sync.Mutex
	closing bool
	conns   map[net.Conn]struct{}
}

// NewTCP makes a TCP (or TLS) listener; Start binds it.
func NewTCP(cfg Config, sink intake.Sink, logger *slog.Logger, opts ...Option) (*TCPListener, error) {
	cfg, err := cfg.withDefaults(false)
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
	return &TCPListener{
		cfg:   cfg,
		sink:  sink,
		log:   logger.With("listener", cfg.Name, "address", cfg.Address),
		m:     o.metrics.forListener(cfg.Name),
		now:   o.now,
		conns: make(map[net.Conn]struct{}),
	}, nil
}

// Start loads the TLS files (if any), binds the socket and starts accepting.
// Cancelling ctx closes the listener as Close does.
func (l *TCPListener) Start(ctx context.Context) error {
	if l.ln != nil {
		return fmt.Errorf("syslog listener %s: already started", l.cfg.Name)
	}
	var tlsConf *tls.Config
	if l.cfg.TLS.Enabled() {
		var err error
		if tlsConf, err = loadServerTLS(l.cfg.TLS); err != nil {
			return fmt.Errorf("syslog listener %s: %w", l.cfg.Name, err)
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", l.cfg.Address)
	if err != nil {
		return fmt.Errorf("syslog listener %s: listen tcp %s: %w", l.cfg.Name, l.cfg.Address, err)
	}
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
	}
	l.ln = ln
	l.writeCtx, l.cancelWrites = context.WithCancel(context.WithoutCancel(ctx))

	l.wg.Add(1)
	go l.accept()
	l.ctxWatch.start(ctx, func() { _ = l.Close() })
	l.log.Info("syslog tcp listener started", "bound", ln.Addr().String(), "tls", tlsConf != nil,
		"mutual_tls", tlsConf != nil && tlsConf.ClientCAs != nil)
	return nil
}

// Addr is the bound address (with the real port when the configured one was
// 0), or nil before Start.
func (l *TCPListener) Addr() net.Addr {
	if l.ln == nil {
		return nil
	}
	return l.ln.Addr()
}

// Close stops accepting and reading, writes each connection's pending batch
// (trying for at most ShutdownTimeout) and waits for all goroutines to end.
func (l *TCPListener) Close() error {
	if l.ln == nil {
		return nil
	}
	var err error
	l.closeOnce.Do(func() {
		l.ctxWatch.stop()
		l.mu.Lock()
		l.closing = true
		err = l.ln.Close()
		// Closing a connection ends its blocked read; its goroutine then
		// writes what it holds. Nothing is ever written back to a sender.
		for c := range l.conns {
			_ = c.Close()
		}
		l.mu.Unlock()
		t := time.AfterFunc(l.cfg.ShutdownTimeout, l.cancelWrites)
		l.wg.Wait()
		t.Stop()
		l.cancelWrites()
		l.log.Info("syslog tcp listener stopped")
	})
	if err != nil {
		return fmt.Errorf("syslog listener %s: close: %w", l.cfg.Name, err)
	}
	return nil
}

func (l *TCPListener) accept() {
	defer l.wg.Done()
	wait := 5 * time.Millisecond
	var lastRefusal time.Time // refusals are logged at most every 10s
	refused := 0
	for {
		c, err := l.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait and go on.
			l.log.Warn("syslog tcp accept failed", "err", err, "retry_in", wait)
			time.Sleep(wait)
			wait = min(2*wait, time.Second)
			continue
		}
		wait = 5 * time.Millisecond

		l.mu.Lock()
		switch {
		case l.closing:
			l.mu.Unlock()
			_ = c.Close()
			return
		case len(l.conns) >= l.cfg.MaxConnections:
			l.mu.Unlock()
			l.m.rejected.Inc()
			refused++
			if time.Since(lastRefusal) >= 10*time.Second {
				l.log.Warn("syslog tcp connections refused: max_connections reached",
					"peer", c.RemoteAddr().String(), "max_connections", l.cfg.MaxConnections, "refused", refused)
				lastRefusal, refused = time.Now(), 0
			}
			_ = c.Close()
			continue
		}
		l.conns[c] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.serve(c)
	}
}

func (l *TCPListener) forget(c net.Conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	_ = c.Close()
}

// serve reads one connection. It writes a batch synchronously, so while the
// sink is slow the connection is not read and TCP pushes back on the sender.
func (l *TCPListener) serve(c net.Conn) {
	defer l.wg.Done()
	defer l.forget(c)
	l.m.connections.Inc()
	l.m.active.Inc()
	defer l.m.active.Dec()

	peer := c.RemoteAddr().String()
	log := l.log.With("peer", peer)
	if tc, ok := c.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(l.writeCtx, l.cfg.TLS.HandshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			log.Info("syslog tls handshake failed", "err", err)
			return
		}
	}
	log.Debug("syslog tcp connection opened")

	fr := newFrameReader(c, l.cfg.MaxMessageSize)
	b := newBatchBuilder(l.cfg)
	writer := batchWriter{sink: l.sink, log: log, m: &l.m, retry: l.cfg.RetryInterval, ctx: l.writeCtx}
	armed := false // whether a flush deadline is set

	syncCounters := func() {
		l.m.bytes.Add(float64(fr.bytesRead))
		l.m.framingErrors.Add(float64(fr.framingErrors))
		fr.bytesRead, fr.framingErrors = 0, 0
	}
	flush := func() {
		syncCounters()
		if b.len() > 0 {
			writer.write(b.take())
		}
		if armed {
			_ = c.SetReadDeadline(time.Time{})
			armed = false
		}
	}

	for {
		msg, truncated, err := fr.next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				flush()
				continue
			}
			flush()
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				log.Info("syslog tcp connection ended", "err", err)
			} else {
				log.Debug("syslog tcp connection closed")
			}
			return
		}
		if !armed {
			_ = c.SetReadDeadline(time.Now().Add(l.cfg.FlushInterval))
			armed = true
		}
		b.add(msg, l.now(), peer)
		l.m.received.Inc()
		if truncated {
			l.m.truncated.Inc()
		}
		if b.bytes >= l.cfg.FlushBytes || b.len() >= l.cfg.FlushRecords {
			flush()
		}
	}
}

// loadServerTLS reads the certificate, key and optional client CA files.
func loadServerTLS(c TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("load tls certificate %s and key %s: %w", c.CertFile, c.KeyFile, err)
	}
	conf := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("read tls client ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls client ca %s: no PEM certificate found", c.ClientCAFile)
		}
		conf.ClientCAs = pool
		conf.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return conf, nil
}
