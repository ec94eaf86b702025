package tail

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/collect/state"
)

// Defaults applied to zero fields of Config.
const (
	DefaultPollInterval  = time.Second
	DefaultFlushInterval = time.Second
	DefaultFlushRecords  = 10000
	DefaultFlushBytes    = 1 << 20
	DefaultMaxLineBytes  = 64 << 10
	DefaultRotateWait    = 5 * time.Second
)

// Where a file seen for the first time is read from.
const (
	StartBeginning = "beginning"
	StartEnd       = "end"
)

// Config configures the tail of one file.
type Config struct {
	// Name names the tail: its state file (<name>.json), the batches'
	// listener and its log lines. Default "tail-" and the file's base name,
	// lower-cased, such as "tail-kea-dhcp4.log".
	Name string `yaml:"name"`
	// Path is the file to follow, an absolute path. Required.
	Path string `yaml:"path"`
	// Dataset is the dataset of every line, such as "dhcp.lease" for Kea's
	// lease log. Required.
	Dataset string `yaml:"dataset"`
	// StartAt says where a file without saved state is read from the first
	// time: "beginning" (default) or "end". Files that appear later, and
	// rotated-in files, are always read from their beginning.
	StartAt string `yaml:"start_at"`
	// PollInterval is how often the file is checked for new lines and for
	// rotation. Default 1s.
	PollInterval time.Duration `yaml:"poll_interval"`
	// FlushInterval is the longest a complete line waits before its batch
	// is archived. Default 1s.
	FlushInterval time.Duration `yaml:"flush_interval"`
	// FlushRecords archives a batch once it holds this many lines.
	// Default 10000.
	FlushRecords int `yaml:"flush_records"`
	// FlushBytes archives a batch once its lines hold this many bytes.
	// Default 1 MiB.
	FlushBytes int `yaml:"flush_bytes"`
	// MaxLineBytes is the longest record: a longer line is archived in
	// pieces of this size. Default 64 KiB.
	MaxLineBytes int `yaml:"max_line_bytes"`
	// RotateWait: once the path names a new file, the old one is read
	// until it has not grown for this long, then its unterminated last
	// line, if any, is archived as it is and the new file is read from its
	// beginning. Default 5s.
	RotateWait time.Duration `yaml:"rotate_wait"`
}

// DefaultName is the name of a tail of path when Config.Name is empty.
func DefaultName(path string) string {
	base := strings.ToLower(filepath.Base(path))
	var b strings.Builder
	b.WriteString("tail-")
	for i := 0; i < len(base) && b.Len() < 100; i++ {
		c := base[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func (c Config) withDefaults() Config {
	if c.Name == "" && c.Path != "" {
		c.Name = DefaultName(c.Path)
	}
	if c.StartAt == "" {
		c.StartAt = StartBeginning
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.FlushRecords == 0 {
		c.FlushRecords = DefaultFlushRecords
	}
	if c.FlushBytes == 0 {
		c.FlushBytes = DefaultFlushBytes
	}
	if c.MaxLineBytes == 0 {
		c.MaxLineBytes = DefaultMaxLineBytes
	}
	if c.RotateWait == 0 {
		c.RotateWait = DefaultRotateWait
	}
	return c
}

// Validate reports the first problem of c (after defaults), or nil.
func (c Config) Validate() error {
	c = c.withDefaults()
	if c.Path == "" || !filepath.IsAbs(c.Path) {
		return fmt.Errorf("tail: path %q: want an absolute file path", c.Path)
	}
	if err := state.ValidName(c.Name); err != nil {
		return fmt.Errorf("tail %s: name: %w", c.Path, err)
	}
	if err := archive.ValidateDataset(c.Dataset); err != nil {
		return fmt.Errorf("tail %s: %w", c.Name, err)
	}
	switch {
	case c.StartAt != StartBeginning && c.StartAt != StartEnd:
		return fmt.Errorf("tail %s: start_at %q: want beginning or end", c.Name, c.StartAt)
	case c.PollInterval < 0, c.FlushInterval < 0, c.RotateWait < 0, c.FlushRecords < 0, c.FlushBytes < 0, c.MaxLineBytes < 0:
		return fmt.Errorf("tail %s: negative size, count or duration in config", c.Name)
	case c.PollInterval < 10*time.Millisecond:
		return fmt.Errorf("tail %s: poll_interval %s: want at least 10ms (write durations with a unit, such as 1s)", c.Name, c.PollInterval)
	case c.MaxLineBytes > archive.MaxRecordBytes:
		return fmt.Errorf("tail %s: max_line_bytes %d is above the archive's record limit %d", c.Name, c.MaxLineBytes, archive.MaxRecordBytes)
	}
	return nil
}

// StateName is the collector's name once defaults apply: its state file's
// name, which must be unique among the collectors.
func (c Config) StateName() string { return c.withDefaults().Name }
