package tail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/collecttest"
	"github.com/mamori-sec/mamori/internal/intake"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

type harness struct {
	t     *testing.T
	path  string
	sink  *collecttest.Sink
	clock *collecttest.Clock
	env   collect.Env
	cfg   Config
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, path: filepath.Join(t.TempDir(), "kea-dhcp4.log"), sink: &collecttest.Sink{}, clock: collecttest.NewClock(t0)}
	h.env = collecttest.Env(t, h.sink, h.clock)
	h.cfg = Config{Path: h.path, Dataset: "dhcp.lease"}
	return h
}

func (h *harness) tailer() *Tailer {
	h.t.Helper()
	tl, err := New(h.cfg, h.env)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(tl.close)
	return tl
}

// appendTo appends s to the file at path, creating it.
func appendTo(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func (h *harness) step(tl *Tailer) {
	h.t.Helper()
	if err := tl.step(context.Background()); err != nil {
		h.t.Fatal(err)
	}
}

// settle steps, lets the flush interval pass and steps again.
func (h *harness) settle(tl *Tailer) {
	h.t.Helper()
	h.step(tl)
	h.clock.Advance(tl.cfg.FlushInterval)
	h.step(tl)
}

// lines returns the records archived, object by object in write order,
// each object once.
func (h *harness) lines() []string {
	h.t.Helper()
	seen := map[string]bool{}
	var out []string
	objects := h.sink.Objects(h.t)
	for i, b := range h.sink.Batches() {
		k := collecttest.Key(b, i)
		if seen[k] {
			continue
		}
		seen[k] = true
		for _, r := range objects[k].Records {
			out = append(out, string(r.Data))
		}
	}
	return out
}

func (h *harness) wantLines(want ...string) {
	h.t.Helper()
	if got := h.lines(); !slices.Equal(got, want) {
		h.t.Errorf("archived %q\nwant %q", got, want)
	}
}

func TestAppendedLinesBatchedByInterval(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "one\ntwo\nthree\n")
	tl := h.tailer()
	h.step(tl)
	if n := len(h.sink.Batches()); n != 0 {
		t.Fatalf("%d batches before the flush interval", n)
	}
	h.clock.Advance(time.Second)
	h.step(tl)
	h.wantLines("one", "two", "three")
	b := h.sink.Batches()[0]
	if b.Dataset != "dhcp.lease" || b.Listener != "tail-kea-dhcp4.log" || b.ID == "" {
		t.Errorf("batch %s %s %q", b.Dataset, b.Listener, b.ID)
	}
	for _, r := range b.Records {
		if !r.Received.Equal(t0.Add(time.Second)) {
			t.Errorf("received %s", r.Received)
		}
	}
	appendTo(t, h.path, "four\n")
	h.settle(tl)
	h.wantLines("one", "two", "three", "four")
	if len(h.sink.Batches()) != 2 {
		t.Errorf("%d batches", len(h.sink.Batches()))
	}
}

func TestFullBatchesWrittenAtOnce(t *testing.T) {
	h := newHarness(t)
	h.cfg.FlushRecords = 2
	h.cfg.FlushBytes = 9
	appendTo(t, h.path, "a\nb\nc\nd\ne\nlonger-line\nf\n")
	tl := h.tailer()
	h.step(tl) // no time passes: only full batches
	var sizes []int
	for _, b := range h.sink.Batches() {
		sizes = append(sizes, len(b.Records))
	}
	// 2 by count, 2 by count, then "e"+"longer-line" reach 9 bytes.
	if fmt.Sprint(sizes) != "[2 2 2]" {
		t.Errorf("batch sizes %v", sizes)
	}
	h.clock.Advance(time.Second)
	h.step(tl)
	h.wantLines("a", "b", "c", "d", "e", "longer-line", "f")
}

func TestPartialLineWaitsForItsNewline(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "done\nhalf a li")
	tl := h.tailer()
	h.settle(tl)
	h.clock.Advance(time.Hour)
	h.step(tl)
	h.wantLines("done")
	appendTo(t, h.path, "ne\n")
	h.settle(tl)
	h.wantLines("done", "half a line")
}

func TestLineEndingsBlankAndLongLines(t *testing.T) {
	h := newHarness(t)
	h.cfg.MaxLineBytes = 4
	appendTo(t, h.path, "ab\r\n\r\n\nabcdefghij\nxyz\n")
	tl := h.tailer()
	h.settle(tl)
	h.wantLines("ab", "abcd", "efgh", "ij", "xyz")
}

func TestRenameRotation(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "old1\nold2\n")
	tl := h.tailer()
	h.settle(tl)

	// logrotate renames the file and the program opens a new one, but
	// writes a little more to the old one first.
	if err := os.Rename(h.path, h.path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, h.path, "new1\n")
	appendTo(t, h.path+".1", "old3\nunterminated")
	h.settle(tl)
	h.wantLines("old1", "old2", "old3")

	// The old file has not grown for RotateWait: its last line goes as it
	// is, and the new file is read from its beginning.
	h.clock.Advance(DefaultRotateWait)
	h.step(tl)
	h.settle(tl)
	h.wantLines("old1", "old2", "old3", "unterminated", "new1")
	appendTo(t, h.path, "new2\n")
	h.settle(tl)
	h.wantLines("old1", "old2", "old3", "unterminated", "new1", "new2")
}

func TestRotationWithoutNewFileYet(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "a\n")
	tl := h.tailer()
	h.settle(tl)
	if err := os.Rename(h.path, h.path+".1"); err != nil {
		t.Fatal(err)
	}
	h.step(tl) // sees the path gone
	h.clock.Advance(DefaultRotateWait)
	h.step(tl) // finishes the old file; no new one yet
	if tl.f != nil {
		t.Fatal("the rotated file is still open")
	}
	h.step(tl)
	appendTo(t, h.path, "b\n")
	h.settle(tl)
	h.wantLines("a", "b")
}

func TestCopyTruncate(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "first line\nsecond line\nhalf")
	tl := h.tailer()
	h.settle(tl)
	h.wantLines("first line", "second line")

	// copytruncate: the file is emptied in place and written again.
	if err := os.Truncate(h.path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, h.path, "fresh\n")
	h.settle(tl)
	h.wantLines("first line", "second line", "half", "fresh")

	// Truncated and rewritten past the old size between two polls: the
	// first bytes changed, so it is read again from the beginning.
	if err := os.Truncate(h.path, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, h.path, "Another start\nwith more lines than before\n")
	h.settle(tl)
	h.wantLines("first line", "second line", "half", "fresh", "Another start", "with more lines than before")
}

func TestRestartResumesAtSavedOffset(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "1\n2\n3\n")
	tl := h.tailer()
	h.settle(tl)
	// Read but not archived when the process stops: read again later.
	appendTo(t, h.path, "4\n")
	h.step(tl)
	tl.close()

	appendTo(t, h.path, "5\n")
	tl2 := h.tailer()
	h.settle(tl2)
	h.wantLines("1", "2", "3", "4", "5")
}

var errCrash = errors.New("simulated crash after the archive write")

func TestRestartAfterCrashRewritesTheSameBatch(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "a\nb\n")
	h.sink.Hook = func(n int, _ intake.Batch) error {
		if n == 1 {
			return errCrash
		}
		return nil
	}
	tl := h.tailer()
	h.step(tl)
	h.clock.Advance(time.Second)
	if err := tl.step(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("step error %v, want the crash", err)
	}
	tl.close()
	h.sink.Hook = nil

	h.clock.Advance(time.Hour)
	appendTo(t, h.path, "c\n")
	tl2 := h.tailer()
	h.settle(tl2)
	batches := h.sink.Batches()
	if len(batches) != 3 || batches[0].ID != batches[1].ID || !batches[1].Records[0].Received.Equal(batches[0].Records[0].Received) {
		t.Fatalf("batches %+v: want the crashed batch written again with its ID and time", batches)
	}
	h.wantLines("a", "b", "c")
}

func TestRestartAfterRenameWhileStopped(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "x1\n")
	tl := h.tailer()
	h.settle(tl)
	tl.close()

	// While stopped: the file gets a last line, is rotated, and the new
	// one gets lines.
	appendTo(t, h.path, "x2\n")
	if err := os.Rename(h.path, h.path+".1"); err != nil {
		t.Fatal(err)
	}
	appendTo(t, h.path, "y1\n")

	tl2 := h.tailer()
	h.settle(tl2)
	h.wantLines("x1", "x2")
	h.clock.Advance(DefaultRotateWait)
	h.step(tl2)
	h.settle(tl2)
	h.wantLines("x1", "x2", "y1")
}

func TestStartAtEnd(t *testing.T) {
	h := newHarness(t)
	h.cfg.StartAt = StartEnd
	appendTo(t, h.path, "history\n")
	tl := h.tailer()
	h.settle(tl)
	appendTo(t, h.path, "news\n")
	h.settle(tl)
	h.wantLines("news")

	// A file that appears after the start is read whole.
	h2 := newHarness(t)
	h2.cfg.StartAt = StartEnd
	tl2 := h2.tailer()
	h2.settle(tl2)
	appendTo(t, h2.path, "born\n")
	h2.settle(tl2)
	h2.wantLines("born")
}

func TestCorruptStateIsAnError(t *testing.T) {
	h := newHarness(t)
	if err := os.WriteFile(filepath.Join(h.env.StateDir, "tail-kea-dhcp4.log.json"), []byte(`{"offset": "ten"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(h.cfg, h.env); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("error %v", err)
	}
}

func TestRunFollowsUntilCancelled(t *testing.T) {
	h := newHarness(t)
	h.cfg.PollInterval = time.Second
	appendTo(t, h.path, "r1\n")
	ctx, cancel := context.WithCancel(context.Background())
	sleeps := 0
	h.clock.OnSleep = func(time.Duration) {
		sleeps++
		switch sleeps {
		case 2:
			appendTo(t, h.path, "r2\n")
		case 5:
			cancel()
		}
	}
	tl := h.tailer()
	if err := tl.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	h.wantLines("r1", "r2")
	if tl.f != nil {
		t.Error("file left open")
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Path: "/var/log/kea/kea-dhcp4.log", Dataset: "dhcp.lease"}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	if n := ok.withDefaults().Name; n != "tail-kea-dhcp4.log" {
		t.Errorf("default name %s", n)
	}
	if n := DefaultName("/x/My Log (1).TXT"); n != "tail-my-log--1-.txt" {
		t.Errorf("default name %s", n)
	}
	for name, mut := range map[string]func(*Config){
		"relative":  func(c *Config) { c.Path = "kea.log" },
		"no path":   func(c *Config) { c.Path = "" },
		"dataset":   func(c *Config) { c.Dataset = "" },
		"bad ds":    func(c *Config) { c.Dataset = "DHCP" },
		"start":     func(c *Config) { c.StartAt = "middle" },
		"negative":  func(c *Config) { c.RotateWait = -1 },
		"unitless":  func(c *Config) { c.PollInterval = 1 },
		"huge line": func(c *Config) { c.MaxLineBytes = 1 << 30 },
		"bad name":  func(c *Config) { c.Name = "a/b" },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// keepSink keeps batches as given, without copying, as a sink may.
type keepSink struct{ batches []intake.Batch }

func (s *keepSink) Write(_ context.Context, b intake.Batch) error {
	s.batches = append(s.batches, b)
	return nil
}

func TestBatchesOwnTheirMemory(t *testing.T) {
	h := newHarness(t)
	sink := &keepSink{}
	h.env.Sink = sink
	first := "the first line, long enough to leave room in the buffer"
	appendTo(t, h.path, first+"\n")
	tl := h.tailer()
	h.settle(tl)
	appendTo(t, h.path, "XX\n")
	h.settle(tl)
	if len(sink.batches) != 2 || string(sink.batches[0].Records[0].Data) != first {
		t.Fatalf("the first batch changed after it was written: %q", sink.batches[0].Records[0].Data)
	}
}

func TestRestartAfterFileReplacedWhileStopped(t *testing.T) {
	h := newHarness(t)
	appendTo(t, h.path, "gone1\ngone2\n")
	tl := h.tailer()
	h.settle(tl)
	tl.close()

	// Deleted and written anew (no rotated copy left): the new file is
	// read from its beginning, not from the old offset.
	if err := os.Remove(h.path); err != nil {
		t.Fatal(err)
	}
	appendTo(t, h.path, "n1\n")
	tl2 := h.tailer()
	h.settle(tl2)
	h.wantLines("gone1", "gone2", "n1")
}
