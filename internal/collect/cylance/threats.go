package cylance

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/mamori-sec/mamori/internal/collect/poll"
	"github.com/mamori-sec/mamori/internal/intake"
)

// threatsPerBatch bounds the records of one threat batch.
const threatsPerBatch = 1000

// threat is one threat object of the list and what orders it.
type threat struct {
	raw       json.RawMessage
	lastFound time.Time
	sha256    string
}

// pollThreats archives the threats last found in the windows now due: the
// one a crash left open, if any, then one up to now-lag.
func (c *Collector) pollThreats(ctx context.Context) error {
	for ctx.Err() == nil {
		cur := &c.st.Threats
		wasOpen := cur.Open != nil
		// No MaxWindow: the whole list is read for any window, so one
		// window reaches now-lag at once.
		win, ok := cur.Plan(c.env.Now(), poll.Policy{Lag: c.cfg.Lag, Lookback: c.cfg.InitialLookback})
		if !ok {
			return nil
		}
		if !wasOpen {
			if err := c.save(); err != nil {
				return err
			}
		}
		if err := c.threatWindow(ctx, win); err != nil {
			return fmt.Errorf("window %s: %w", win, err)
		}
		cur.Close()
		if err := c.save(); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// threatWindow archives, in batches of threatsPerBatch, the threats whose
// last_found lies in win, ordered by it and their sha256 so that the
// batches come out the same each time the window is fetched.
func (c *Collector) threatWindow(ctx context.Context, win poll.Window) error {
	threats, skipped, err := c.listThreats(ctx)
	if err != nil {
		return err
	}
	if skipped > 0 {
		c.env.Logger.Warn("threats without a readable last_found were not archived",
			"collector", c.cfg.Name, "count", skipped)
	}
	var due []threat
	for _, t := range threats {
		if !t.lastFound.Before(win.Start) && t.lastFound.Before(win.End) {
			due = append(due, t)
		}
	}
	slices.SortFunc(due, func(a, b threat) int {
		return cmp.Or(a.lastFound.Compare(b.lastFound), cmp.Compare(a.sha256, b.sha256), bytes.Compare(a.raw, b.raw))
	})
	for i := 0; i < len(due); i += threatsPerBatch {
		chunk := due[i:min(i+threatsPerBatch, len(due))]
		b := intake.Batch{
			Dataset:  Dataset,
			Listener: "poll-" + c.cfg.Name,
			ID:       poll.PageID(c.cfg.Name, "threats", win, i/threatsPerBatch),
			Records:  make([]intake.Record, len(chunk)),
		}
		for j, t := range chunk {
			b.Records[j] = intake.Record{Data: t.raw, Received: win.Start}
		}
		if err := poll.WriteBatch(ctx, c.env, b); err != nil {
			return err
		}
	}
	c.env.Logger.Debug("threat window archived", "collector", c.cfg.Name, "window", win.String(),
		"listed", len(threats), "archived", len(due))
	return nil
}

// listThreats reads the whole threat list. A threat listed twice (the list
// shifted while it was paged) is kept once. skipped counts threats whose
// last_found cannot be read.
func (c *Collector) listThreats(ctx context.Context) (threats []threat, skipped int, err error) {
	seen := map[string]bool{}
	err = c.walk(ctx, "/threats/v2", func(_ int, _ []byte, p page) error {
		for _, raw := range p.Items {
			var t struct {
				SHA256    string `json:"sha256"`
				LastFound string `json:"last_found"`
			}
			if json.Unmarshal(raw, &t) != nil {
				skipped++
				continue
			}
			found, ok := parseTime(t.LastFound)
			if !ok {
				skipped++
				continue
			}
			key := t.SHA256
			if key == "" {
				key = string(raw)
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			threats = append(threats, threat{raw: raw, lastFound: found, sha256: t.SHA256})
		}
		return nil
	})
	return threats, skipped, err
}

// parseTime reads the API's times: "2017-03-15T23:59:55" (UTC, no zone
// written), with or without fractions and a zone.
func parseTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
