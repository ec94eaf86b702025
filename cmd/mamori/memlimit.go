package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/mamori-sec/mamori/internal/config"
)

// applyGoMemoryLimit sets the Go heap's soft limit from the configuration
// (processing.go_memory_limit) unless GOMEMLIMIT is set, which the runtime
// has applied already. It is process-wide, so only the commands that run
// the pipeline call it.
func applyGoMemoryLimit(cfg config.Config, logger *slog.Logger) {
	if os.Getenv("GOMEMLIMIT") != "" || cfg.Processing.GoMemoryLimit <= 0 {
		return
	}
	debug.SetMemoryLimit(int64(cfg.Processing.GoMemoryLimit))
	logger.Debug("go memory limit", "bytes", int64(cfg.Processing.GoMemoryLimit))
}
