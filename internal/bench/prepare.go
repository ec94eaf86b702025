package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"
)

// The work directory of a run.
const (
	manifestName = "manifest.json"
	linesName    = "lines.log"       // CEF and syslog lines, in time order, for syslog TCP
	linesZstName = "lines.log.zst"   // the same, compressed, for the rg reference
	jsonZstName  = "json.ndjson.zst" // JSON records: one zstd frame per HTTP batch
	dataDirName  = "data"            // the server's data directory
	serverLog    = "server.log"
)

// Frame is one zstd frame of the JSON file: one HTTP request's body.
type Frame struct {
	Offset  int64 `json:"offset"`
	Length  int64 `json:"length"`
	Records int   `json:"records"`
}

// Manifest describes the generated data; it is written next to it so that
// --skip-load can query a loaded directory again.
type Manifest struct {
	Seed    uint64    `json:"seed"`
	Events  int64     `json:"events"`
	Days    int       `json:"days"`
	Mix     string    `json:"mix"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Needles Needles   `json:"needles"`
	Planted Planted   `json:"planted"`
	// Per kind: events and raw bytes (each line with its newline).
	Counts   map[string]int64 `json:"counts"`
	RawBytes map[string]int64 `json:"raw_bytes"`
	// LineEvents are sent over syslog TCP, JSONEvents over HTTP.
	LineEvents int64   `json:"line_events"`
	JSONEvents int64   `json:"json_events"`
	JSONFrames []Frame `json:"json_frames,omitempty"`
	// GenerateSeconds is how long generating and writing took.
	GenerateSeconds float64 `json:"generate_seconds"`
}

// TotalRawBytes is the size of all generated lines, uncompressed.
func (m *Manifest) TotalRawBytes() int64 {
	var n int64
	for _, b := range m.RawBytes {
		n += b
	}
	return n
}

// generate writes the events of cfg into dir: lines.log and its zstd copy,
// and json.ndjson.zst in frames of batch records. Events are streamed:
// memory stays at one batch whatever the number of events.
func generate(ctx context.Context, cfg GenConfig, dir string, batch int) (m *Manifest, err error) {
	began := time.Now()
	g, err := NewGenerator(cfg)
	if err != nil {
		return nil, err
	}
	lines, err := os.Create(filepath.Join(dir, linesName))
	if err != nil {
		return nil, err
	}
	defer closeInto(lines, &err)
	linesZst, err := os.Create(filepath.Join(dir, linesZstName))
	if err != nil {
		return nil, err
	}
	defer closeInto(linesZst, &err)
	jsonZst, err := os.Create(filepath.Join(dir, jsonZstName))
	if err != nil {
		return nil, err
	}
	defer closeInto(jsonZst, &err)

	zw, err := zstd.NewWriter(linesZst, zstd.WithEncoderLevel(zstd.SpeedDefault))
	if err != nil {
		return nil, err
	}
	frameEnc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, err
	}
	defer frameEnc.Close()
	bw := bufio.NewWriterSize(io.MultiWriter(lines, zw), 1<<20)

	m = &Manifest{Seed: cfg.Seed, Events: cfg.Events, Days: cfg.Days, Mix: cfg.Mix.String(),
		Start: g.Start(), End: cfg.End, Needles: cfg.Needles,
		Counts: map[string]int64{}, RawBytes: map[string]int64{}}
	var (
		line     []byte
		jsonBuf  []byte
		frame    []byte
		inBatch  int
		jsonSize int64
	)
	flushJSON := func() error {
		if inBatch == 0 {
			return nil
		}
		frame = frameEnc.EncodeAll(jsonBuf, frame[:0])
		if _, err := jsonZst.Write(frame); err != nil {
			return fmt.Errorf("write %s: %w", jsonZstName, err)
		}
		m.JSONFrames = append(m.JSONFrames, Frame{Offset: jsonSize, Length: int64(len(frame)), Records: inBatch})
		jsonSize += int64(len(frame))
		jsonBuf, inBatch = jsonBuf[:0], 0
		return nil
	}
	for n := 0; ; n++ {
		if n%65536 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		kind, l, ok := g.Next(line[:0])
		if !ok {
			break
		}
		line = l
		m.Counts[kind.String()]++
		m.RawBytes[kind.String()] += int64(len(line) + 1)
		if kind == KindJSON {
			jsonBuf = append(append(jsonBuf, line...), '\n')
			m.JSONEvents++
			if inBatch++; inBatch == batch {
				if err := flushJSON(); err != nil {
					return nil, err
				}
			}
			continue
		}
		m.LineEvents++
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return nil, fmt.Errorf("write %s: %w", linesName, err)
		}
	}
	if err := flushJSON(); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("write %s: %w", linesName, err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write %s: %w", linesZstName, err)
	}
	m.Planted = g.Planted()
	m.GenerateSeconds = time.Since(began).Seconds()
	return m, writeManifest(dir, m)
}

func writeManifest(dir string, m *Manifest) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, manifestName), append(b, '\n'), 0o644)
}

func readManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("read manifest (was %s loaded by an earlier `mamori bench --keep`?): %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	return &m, nil
}

// closeInto closes c and keeps its error when there was none before.
func closeInto(c io.Closer, err *error) {
	if cerr := c.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
