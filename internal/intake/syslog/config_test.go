package syslog

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gopkg.in/yaml.v3"
)

func TestConfigDefaults(t *testing.T) {
	udp, err := Config{Address: "127.0.0.1:514"}.withDefaults(true)
	if err != nil {
		t.Fatal(err)
	}
	if udp.Name != NameUDP || udp.Dataset != "syslog" || udp.FlushInterval != time.Second ||
		udp.MaxMessageSize != 64<<10 || udp.FlushBytes != 1<<20 || udp.ReadBuffer != 8<<20 {
		t.Errorf("UDP defaults: %+v", udp)
	}
	tcp, err := Config{Address: "127.0.0.1:514"}.withDefaults(false)
	if err != nil {
		t.Fatal(err)
	}
	if tcp.Name != NameTCP || tcp.FlushInterval != 200*time.Millisecond || tcp.MaxConnections != 1024 {
		t.Errorf("TCP defaults: %+v", tcp)
	}
	tlsCfg, err := Config{Address: "127.0.0.1:6514", TLS: TLSConfig{CertFile: "c", KeyFile: "k"}}.withDefaults(false)
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg.Name != NameTLS {
		t.Errorf("TLS listener name %q, want %q", tlsCfg.Name, NameTLS)
	}
	named, _ := Config{Address: ":514", Name: "fw", Dataset: "panos"}.withDefaults(true)
	if named.Name != "fw" || named.Dataset != "panos" {
		t.Errorf("set fields were overridden: %+v", named)
	}
}

func TestConfigRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		udp  bool
		want string
	}{
		{name: "no address", cfg: Config{}, want: "address is empty"},
		{name: "negative size", cfg: Config{Address: ":1", FlushBytes: -1}, want: "negative"},
		{name: "UDP message above a datagram", cfg: Config{Address: ":1", MaxMessageSize: 70000}, udp: true, want: "largest UDP datagram"},
		{name: "key without cert", cfg: Config{Address: ":1", TLS: TLSConfig{KeyFile: "k"}}, want: "both cert_file and key_file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.cfg.withDefaults(tc.udp)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func TestConfigFromYAML(t *testing.T) {
	doc := `
name: office-fw
address: 0.0.0.0:6514
dataset: panos
max_message_size: 16384
flush_interval: 500ms
flush_bytes: 262144
flush_records: 500
max_connections: 64
tls:
  cert_file: /etc/mamori/tls/server.pem
  key_file: /etc/mamori/tls/server-key.pem
  client_ca_file: /etc/mamori/tls/ca.pem
  handshake_timeout: 5s
`
	var c Config
	if err := yaml.Unmarshal([]byte(doc), &c); err != nil {
		t.Fatal(err)
	}
	want := Config{Name: "office-fw", Address: "0.0.0.0:6514", Dataset: "panos", MaxMessageSize: 16384,
		FlushInterval: 500 * time.Millisecond, FlushBytes: 262144, FlushRecords: 500, MaxConnections: 64,
		TLS: TLSConfig{CertFile: "/etc/mamori/tls/server.pem", KeyFile: "/etc/mamori/tls/server-key.pem",
			ClientCAFile: "/etc/mamori/tls/ca.pem", HandshakeTimeout: 5 * time.Second}}
	if c != want {
		t.Errorf("decoded\n%+v\nwant\n%+v", c, want)
	}
}

func TestMetricsRegister(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// Two listeners share one Metrics, told apart by their label.
	sink := &collector{}
	a, err := NewUDP(Config{Address: "127.0.0.1:0", Name: "a"}, sink, nil, WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTCP(Config{Address: "127.0.0.1:0", Name: "b"}, sink, nil, WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []interface{ Start(context.Context) error }{a, b} {
		if err := l.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	defer a.Close()
	defer b.Close()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
	}
	for _, want := range []string{"mamori_syslog_messages_received_total", "mamori_syslog_batches_written_total",
		"mamori_syslog_write_errors_total", "mamori_syslog_messages_dropped_total", "mamori_syslog_connections_active"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("registry lacks %s (has %v)", want, names)
		}
	}
	if _, err := NewMetrics(reg); err == nil || !strings.Contains(err.Error(), "once per registry") {
		t.Errorf("second NewMetrics on one registry: %v", err)
	}
}

func TestUDPContextCancelCloses(t *testing.T) {
	checkNoLeak(t)
	sink := &collector{}
	ctx, cancel := context.WithCancel(context.Background())
	m, _ := NewMetrics(nil)
	l, err := NewUDP(Config{Address: "127.0.0.1:0", FlushInterval: time.Hour}, sink, testLogger(t), WithMetrics(m))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(ctx); err != nil {
		t.Fatal(err)
	}
	c := dialUDP(t, l)
	if _, err := c.Write([]byte("<13>held")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the datagram to be read", func() bool { return metric(m.received, NameUDP) == 1 })
	cancel()
	waitFor(t, 5*time.Second, "the held record to be written", func() bool { return len(sink.records()) == 1 })
	_ = l.Close()
}

// A context that is already done when Start is called closes the listener
// at once (or Start refuses); either way nothing is left running.
func TestStartWithDoneContext(t *testing.T) {
	checkNoLeak(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	u, err := NewUDP(Config{Address: "127.0.0.1:0"}, &collector{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := NewTCP(Config{Address: "127.0.0.1:0"}, &collector{}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []interface {
		Start(context.Context) error
		Close() error
	}{u, tc} {
		if err := l.Start(ctx); err != nil {
			t.Logf("Start with a done context: %v", err)
			continue
		}
		if err := l.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}
