package cylance

import (
	"context"
	"fmt"

	"github.com/mamori-sec/mamori/internal/collect/poll"
	"github.com/mamori-sec/mamori/internal/intake"
)

// pollDevices archives a snapshot of the device list when the current
// DeviceInterval has none yet. Each page is one record, received at the
// interval's start and named by it and the page number, so that a snapshot
// re-taken in the same interval after a crash lands in the same objects.
func (c *Collector) pollDevices(ctx context.Context) error {
	slot := c.env.Now().UTC().Truncate(c.cfg.DeviceInterval)
	if !c.st.DevicesSnapshot.IsZero() && !c.st.DevicesSnapshot.Before(slot) {
		return nil
	}
	win := poll.Window{Start: slot, End: slot.Add(c.cfg.DeviceInterval)}
	pages := 0
	err := c.walk(ctx, "/devices/v2", func(n int, body []byte, _ page) error {
		b := intake.Batch{
			Dataset:  Dataset,
			Listener: "poll-" + c.cfg.Name,
			ID:       poll.PageID(c.cfg.Name, "devices", win, n),
			Records:  []intake.Record{{Data: body, Received: slot}},
		}
		pages++
		return poll.WriteBatch(ctx, c.env, b)
	})
	if err != nil {
		return fmt.Errorf("snapshot %s: %w", slot.Format("2006-01-02T15:04:05Z"), err)
	}
	c.st.DevicesSnapshot = slot
	if err := c.save(); err != nil {
		return err
	}
	c.env.Logger.Debug("device snapshot archived", "collector", c.cfg.Name, "snapshot", slot, "pages", pages)
	return nil
}
