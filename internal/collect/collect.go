// Package collect holds what mamori's collectors share. A collector fetches
// raw data from somewhere that does not push it to mamori (a vendor's API, a
// local file) and hands it, unparsed, to an intake.Sink. Its subpackages are
// the collectors (googleworkspace, msgraph, cylance, tail) and their shared
// parts (poll: HTTP with back-off, tokens and query windows; state: cursor
// files; jwt: token signing).
//
// Every collector archives first and remembers afterwards: a page or a batch
// of lines is written to the sink, and only once the sink has made it durable
// does the collector persist how far it got. Batches are named (intake.Batch
// ID) and stamped with a receive time derived from what they hold, so a batch
// written again after a crash lands in the same archive object.
package collect

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
)

// DefaultHTTPTimeout bounds one HTTP request (connect to last body byte)
// when Env.HTTPClient is nil.
const DefaultHTTPTimeout = 2 * time.Minute

// Env is what a collector is given besides its Config: where batches go,
// where it keeps its cursor, and the clock, sleep and HTTP client it uses.
// Tests replace the clock and the sleep so that nothing waits for real.
type Env struct {
	// Sink receives the raw batches. Required.
	Sink intake.Sink
	// StateDir is the directory of the collector's cursor file, such as
	// "<data_dir>/collect". Required; created when missing.
	StateDir string
	// Logger receives the collector's log lines. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done, returning ctx.Err() then.
	// Default SleepContext.
	Sleep func(ctx context.Context, d time.Duration) error
	// HTTPClient makes the API requests. Default: a client with a
	// DefaultHTTPTimeout timeout. Collectors that make no requests ignore it.
	HTTPClient *http.Client
	// Jitter returns a number in [0, 1) that spreads retry waits.
	// Default math/rand/v2.Float64.
	Jitter func() float64
}

// WithDefaults returns e with its zero fields set, or an error when a
// required one is missing.
func (e Env) WithDefaults() (Env, error) {
	if e.Sink == nil {
		return e, errors.New("collector: no sink")
	}
	if e.StateDir == "" {
		return e, errors.New("collector: no state directory")
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Sleep == nil {
		e.Sleep = SleepContext
	}
	if e.HTTPClient == nil {
		e.HTTPClient = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	if e.Jitter == nil {
		e.Jitter = rand.Float64
	}
	return e, nil
}

// SleepContext waits d, or until ctx is done and then returns ctx.Err().
func SleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
