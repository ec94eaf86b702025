package main

import (
	"log/slog"
	"runtime/debug"
	"testing"

	"github.com/mamori-sec/mamori/internal/config"
)

func TestApplyGoMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	t.Setenv("GOMEMLIMIT", "")
	cfg := config.Default()
	applyGoMemoryLimit(cfg, slog.New(slog.DiscardHandler))
	if got := debug.SetMemoryLimit(-1); got != 400<<20 {
		t.Errorf("default limit %d, want 400 MiB", got)
	}
	debug.SetMemoryLimit(before)
	t.Setenv("GOMEMLIMIT", "1GiB")
	applyGoMemoryLimit(cfg, slog.New(slog.DiscardHandler))
	if got := debug.SetMemoryLimit(-1); got != before {
		t.Errorf("with GOMEMLIMIT set the limit changed to %d", got)
	}
}
