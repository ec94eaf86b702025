package main

import (
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/mamori-sec/mamori/internal/config"
)

func TestApplyGoMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	gcBefore := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetMemoryLimit(before); debug.SetGCPercent(gcBefore) })
	t.Setenv("GOMEMLIMIT", "")
	t.Setenv("GOGC", "")
	cfg := config.Default()
	applyGoMemoryLimit(cfg, slog.New(slog.DiscardHandler))
	if got := debug.SetMemoryLimit(-1); got != 400<<20 {
		t.Errorf("default limit %d, want 400 MiB", got)
	}
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("default gc percent %d, want 400", got)
	}

	// GOGC wins over go_gc_percent.
	t.Setenv("GOGC", "150")
	applyGoMemoryLimit(cfg, slog.New(slog.DiscardHandler))
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("with GOGC set the gc percent changed to %d", got)
	}

	// Without a limit the heap is not left to grow fivefold.
	debug.SetMemoryLimit(before)
	t.Setenv("GOGC", "")
	noLimit := config.Default()
	noLimit.Processing.GoMemoryLimit = 0
	applyGoMemoryLimit(noLimit, slog.New(slog.DiscardHandler))
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("without a memory limit the gc percent changed to %d", got)
	}

	t.Setenv("GOMEMLIMIT", "1GiB")
	applyGoMemoryLimit(cfg, slog.New(slog.DiscardHandler))
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d", got)
	}
}
