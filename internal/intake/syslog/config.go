// Package syslog receives syslog messages over UDP, TCP and TLS, frames them
// and hands them in batches to an intake.Sink. It does not parse syslog: a
// record is one message exactly as the sender framed it, without framing.
//
// UDP: one datagram is one message. TCP and TLS: each message is framed
// either by RFC 6587 octet counting ("<len> <msg>") or by a terminator (LF,
// CRLF or NUL), detected per message, so one connection may mix both.
//
// Durability: a TCP connection is not read further while its batch is being
// written, so a slow archive slows the senders down instead of losing data.
// UDP has no back-pressure; the listener keeps reading into a bounded queue of
// batches and counts what the kernel drops.
package syslog

import (
	"errors"
	"fmt"
	"time"
)

// Defaults applied by NewUDP and NewTCP to zero fields of Config.
const (
	DefaultDataset          = "syslog"
	DefaultMaxMessageSize   = 64 << 10
	DefaultUDPFlushInterval = time.Second
	DefaultTCPFlushInterval = 200 * time.Millisecond
	DefaultFlushBytes       = 1 << 20
	DefaultFlushRecords     = 10000
	DefaultReadBuffer       = 8 << 20
	DefaultMaxConnections   = 1024
	DefaultRetryInterval    = 100 * time.Millisecond
	DefaultShutdownTimeout  = 10 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second

	// maxRetryInterval caps the doubling wait between retries of a failed write.
	maxRetryInterval = 10 * time.Second
	// maxUDPDatagram is the largest UDP payload (65,535 less the headers);
	// reads use a buffer this big so that no datagram is cut by the kernel.
	maxUDPDatagram = 64 << 10
)

// Listener names used as Batch.Listener and the metrics label when
// Config.Name is empty.
const (
	NameUDP = "syslog-udp"
	NameTCP = "syslog-tcp"
	NameTLS = "syslog-tls"
)

// Config configures one listener. The same struct serves UDP and TCP; fields
// that only one of them uses say so. The zero value of a field means its
// default. Whether a non-loopback Address is allowed is the caller's policy.
type Config struct {
	// Name identifies the listener in logs, metrics (label "listener") and
	// Batch.Listener. Default: "syslog-udp", "syslog-tcp" or "syslog-tls".
	// Give each listener of a process its own name.
	Name string `yaml:"name"`
	// Address is the host:port to listen on, such as "127.0.0.1:5514" or
	// "0.0.0.0:514". Port 0 picks a free port; Addr reports it.
	Address string `yaml:"address"`
	// Dataset is the dataset of every batch. Default "syslog".
	Dataset string `yaml:"dataset"`
	// MaxMessageSize is the longest message kept, in bytes; a longer one is
	// truncated to this size and counted. Default 64 KiB. For UDP it is at
	// most 64 KiB, the largest datagram.
	MaxMessageSize int `yaml:"max_message_size"`
	// FlushInterval is the longest a received message waits in a batch before
	// the batch is written. Default 1s for UDP, 200ms for TCP.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// FlushBytes writes a batch once its messages hold this many bytes.
	// Default 1 MiB.
	FlushBytes int `yaml:"flush_bytes"`
	// FlushRecords writes a batch once it holds this many messages.
	// Default 10000.
	FlushRecords int `yaml:"flush_records"`
	// ReadBuffer is the socket receive buffer (SO_RCVBUF) asked for, in bytes.
	// UDP only: the kernel drops datagrams once it is full. Default 8 MiB.
	// Without CAP_NET_ADMIN, Linux caps it at net.core.rmem_max.
	ReadBuffer int `yaml:"read_buffer"`
	// MaxConnections is the most TCP connections served at once; further
	// ones are accepted and closed at once. TCP only. Default 1024.
	MaxConnections int `yaml:"max_connections"`
	// TLS, when CertFile and KeyFile are set, makes a TCP listener speak TLS.
	TLS TLSConfig `yaml:"tls"`
	// RetryInterval is the first wait before a failed batch write is tried
	// again; it doubles up to 10s. Default 100ms.
	RetryInterval time.Duration `yaml:"retry_interval"`
	// ShutdownTimeout bounds how long Close keeps trying to write the
	// batches still held; what is left after it is dropped and counted.
	// Default 10s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// TLSConfig holds the files of a TLS listener, PEM encoded.
type TLSConfig struct {
	// CertFile is the server certificate chain.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the server certificate's private key.
	KeyFile string `yaml:"key_file"`
	// ClientCAFile, when set, requires every client to present a
	// certificate signed by one of these CAs (mutual TLS).
	ClientCAFile string `yaml:"client_ca_file"`
	// HandshakeTimeout bounds a client's TLS handshake. Default 10s.
	HandshakeTimeout time.Duration `yaml:"handshake_timeout"`
}

// Enabled reports whether a certificate and key are configured.
func (c TLSConfig) Enabled() bool { return c.CertFile != "" || c.KeyFile != "" }

// withDefaults returns c with its zero fields set to the defaults of a
// listener of the given kind, or an error when c cannot work.
func (c Config) withDefaults(udp bool) (Config, error) {
	if c.Address == "" {
		return c, errors.New("syslog listener: address is empty")
	}
	if c.Name == "" {
		switch {
		case udp:
			c.Name = NameUDP
		case c.TLS.Enabled():
			c.Name = NameTLS
		default:
			c.Name = NameTCP
		}
	}
	if c.Dataset == "" {
		c.Dataset = DefaultDataset
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultTCPFlushInterval
		if udp {
			c.FlushInterval = DefaultUDPFlushInterval
		}
	}
	if c.FlushBytes == 0 {
		c.FlushBytes = DefaultFlushBytes
	}
	if c.FlushRecords == 0 {
		c.FlushRecords = DefaultFlushRecords
	}
	if c.ReadBuffer == 0 {
		c.ReadBuffer = DefaultReadBuffer
	}
	if c.MaxConnections == 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = DefaultRetryInterval
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	if c.TLS.HandshakeTimeout == 0 {
		c.TLS.HandshakeTimeout = DefaultHandshakeTimeout
	}

	switch {
	case c.MaxMessageSize < 0, c.FlushInterval < 0, c.FlushBytes < 0, c.FlushRecords < 0,
		c.ReadBuffer < 0, c.MaxConnections < 0, c.RetryInterval < 0, c.ShutdownTimeout < 0,
		c.TLS.HandshakeTimeout < 0:
		return c, fmt.Errorf("syslog listener %s: negative size, count or duration in config", c.Name)
	case udp && c.MaxMessageSize > maxUDPDatagram:
		return c, fmt.Errorf("syslog listener %s: max_message_size %d is above the largest UDP datagram (%d)",
			c.Name, c.MaxMessageSize, maxUDPDatagram)
	case udp && c.TLS.Enabled():
		return c, fmt.Errorf("syslog listener %s: TLS is for TCP listeners", c.Name)
	case c.TLS.Enabled() && (c.TLS.CertFile == "" || c.TLS.KeyFile == ""):
		return c, fmt.Errorf("syslog listener %s: TLS needs both cert_file and key_file", c.Name)
	}
	return c, nil
}
