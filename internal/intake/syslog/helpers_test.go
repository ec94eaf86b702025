package syslog

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// collector is an in-memory intake.Sink: it keeps every batch written.
// failNext makes the next n writes fail; block holds writes until released.
type collector struct {
	mu       sync.Mutex
	batches  []intake.Batch
	failNext int
	attempts int
	block    chan struct{}
}

func (c *collector) Write(ctx context.Context, b intake.Batch) error {
	c.mu.Lock()
	block := c.block
	c.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return fmt.Errorf("collector: %w", ctx.Err())
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.attempts++
	if c.failNext > 0 {
		c.failNext--
		return fmt.Errorf("collector: archive unavailable: %w", intake.ErrBusy)
	}
	c.batches = append(c.batches, b)
	return nil
}

func (c *collector) records() []intake.Record {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []intake.Record
	for _, b := range c.batches {
		out = append(out, b.Records...)
	}
	return out
}

func (c *collector) messages() []string {
	var out []string
	for _, r := range c.records() {
		out = append(out, string(r.Data))
	}
	return out
}

func (c *collector) batchCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.batches)
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// testLogger writes the listener's logs to the test log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// startTCP starts a TCP listener on a free loopback port, closed at cleanup.
func startTCP(t *testing.T, cfg Config, sink intake.Sink) (*TCPListener, *Metrics) {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewTCP(cfg, sink, testLogger(t), WithMetrics(m))
	if err != nil {
		t.Fatalf("NewTCP: %v", err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, m
}

// startUDP starts a UDP listener on a free loopback port, closed at cleanup.
func startUDP(t *testing.T, cfg Config, sink intake.Sink) (*UDPListener, *Metrics) {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = "127.0.0.1:0"
	}
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewUDP(cfg, sink, testLogger(t), WithMetrics(m))
	if err != nil {
		t.Fatalf("NewUDP: %v", err)
	}
	if err := l.Start(context.Background()); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, m
}

func port(a net.Addr) int {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.Port
	case *net.UDPAddr:
		return a.Port
	}
	panic(fmt.Sprintf("no port in %T", a))
}

// metric reads one listener's value of a counter vector.
func metric(v *prometheus.CounterVec, listener string) float64 {
	var m dto.Metric
	if err := v.WithLabelValues(listener).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// gaugeValue reads one listener's value of a gauge vector.
func gaugeValue(v *prometheus.GaugeVec, listener string) float64 {
	var m dto.Metric
	if err := v.WithLabelValues(listener).Write(&m); err != nil {
		panic(err)
	}
	return m.GetGauge().GetValue()
}

// requireSender returns the path of a real syslog sender, or skips the test
// when it is absent, unless MAMORI_REQUIRE_SENDERS is set (as in CI): then the
// test fails, so that a missing package cannot pass as a skip.
func requireSender(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin"} {
			p := filepath.Join(dir, name)
			if _, serr := os.Stat(p); serr == nil {
				return p
			}
		}
		msg := fmt.Sprintf("%s not found (%v); install the test senders with scripts/install-test-deps.sh", name, err)
		if os.Getenv("MAMORI_REQUIRE_SENDERS") != "" {
			t.Fatalf("MAMORI_REQUIRE_SENDERS is set: %s", msg)
		}
		t.Skip(msg)
	}
	return path
}

// senderProcess runs a sender daemon in the foreground until the test ends,
// keeping its output for the failure report.
type senderProcess struct {
	cmd    *exec.Cmd
	output *lockedBuffer
	done   chan struct{}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startSender(t *testing.T, path string, args ...string) *senderProcess {
	t.Helper()
	cmd := exec.Command(path, args...)
	out := &lockedBuffer{}
	cmd.Stdout = out
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	p := &senderProcess{cmd: cmd, output: out, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(path), out.String())
		}
	})
	return p
}

// stop ends the process (SIGTERM, then SIGKILL after 5 s) and waits for it.
func (p *senderProcess) stop(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Logf("%s did not stop on SIGTERM; killing it", p.cmd.Path)
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// exited reports whether the process has ended already.
func (p *senderProcess) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// certs is a throwaway PKI: a CA, a server certificate for 127.0.0.1 and
// localhost, and a client certificate, written as PEM files in dir.
type certs struct {
	dir                           string
	caFile, serverCert, serverKey string
	clientCert, clientKey         string
	caPool                        *x509.CertPool
	// A client certificate from a CA the server does not trust.
	otherClientCert, otherClientKey string
}

func newCerts(t *testing.T) certs {
	t.Helper()
	dir := t.TempDir()
	c := certs{dir: dir}

	caKey, caCert, caDER := makeCA(t, "mamori test CA")
	c.caFile = writePEM(t, dir, "ca.pem", "CERTIFICATE", caDER)
	c.caPool = x509.NewCertPool()
	c.caPool.AddCert(caCert)

	c.serverCert, c.serverKey = makeLeaf(t, dir, "server", caKey, caCert, func(tmpl *x509.Certificate) {
		tmpl.Subject = pkix.Name{CommonName: "localhost"}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	})
	c.clientCert, c.clientKey = makeLeaf(t, dir, "client", caKey, caCert, func(tmpl *x509.Certificate) {
		tmpl.Subject = pkix.Name{CommonName: "sender.test"}
		tmpl.DNSNames = []string{"sender.test"}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}
	})

	otherKey, otherCert, _ := makeCA(t, "untrusted CA")
	c.otherClientCert, c.otherClientKey = makeLeaf(t, dir, "other-client", otherKey, otherCert, func(tmpl *x509.Certificate) {
		tmpl.Subject = pkix.Name{CommonName: "intruder.test"}
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	})
	return c
}

// randomSerial gives each test certificate its own serial number.
func randomSerial(t *testing.T) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func makeCA(t *testing.T, name string) (*ecdsa.PrivateKey, *x509.Certificate, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(t),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert, der
}

func makeLeaf(t *testing.T, dir, name string, caKey *ecdsa.PrivateKey, ca *x509.Certificate, edit func(*x509.Certificate)) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(t),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	edit(tmpl)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writePEM(t, dir, name+".pem", "CERTIFICATE", der), writePEM(t, dir, name+"-key.pem", "PRIVATE KEY", keyDER)
}

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkNoLeak fails when goroutines started during the test outlive it.
func checkNoLeak(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				n := runtime.Stack(buf, true)
				t.Errorf("goroutines: %d before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:n])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
