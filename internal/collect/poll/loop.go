package poll

import (
	"context"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
)

// Run calls poll, then waits until interval has passed since the call
// began, and again, until ctx is done; it then returns nil. A failed poll is
// logged and tried again at the next interval: the cursors stay where the
// last success left them, so nothing is lost by waiting.
func Run(ctx context.Context, env collect.Env, name string, interval time.Duration, poll func(context.Context) error) error {
	for {
		start := env.Now()
		if err := poll(ctx); err != nil && ctx.Err() == nil {
			env.Logger.Error("collector poll failed; retrying at the next interval",
				"collector", name, "error", err, "interval", interval)
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := interval - env.Now().Sub(start)
		if err := env.Sleep(ctx, max(wait, 0)); err != nil || ctx.Err() != nil {
			return nil
		}
	}
}
