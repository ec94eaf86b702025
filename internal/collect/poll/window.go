package poll

import (
	"fmt"
	"time"
)

// Window is a closed range of event times [Start, End) queried at once.
// Its end lies a lag behind the clock, so that the API has every event of
// the window by the time it is asked and the same query always returns the
// same pages.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// String is the window as "20240501T100000Z-20240501T110000Z".
func (w Window) String() string {
	return w.Start.UTC().Format(idTime) + "-" + w.End.UTC().Format(idTime)
}

const idTime = "20060102T150405Z"

// Policy says which windows a stream queries.
type Policy struct {
	// Lag is how far behind the clock a window ends.
	Lag time.Duration
	// MaxWindow caps a window's length, so that catching up after a pause
	// is done in steps of bounded size.
	MaxWindow time.Duration
	// Lookback is how far before now-Lag the first window of a new stream
	// starts.
	Lookback time.Duration
}

// Cursor is the progress of one windowed stream. It is persisted: the open
// window before its first page is fetched, and the cursor's advance after
// its last page is archived.
type Cursor struct {
	// Next is where the next window starts: every event before it is
	// archived.
	Next time.Time `json:"next"`
	// Open is the window being fetched. A restart fetches it again, with
	// the same bounds, so its pages get the same batch IDs as before.
	Open *Window `json:"open,omitempty"`
}

// Plan returns the window to fetch at now and reports false when none is
// due. An open window is returned as it is. Otherwise a window
// [Next, min(now-Lag, Next+MaxWindow)) is opened, its bounds in whole
// seconds; a new cursor starts at now-Lag-Lookback. The caller persists the
// cursor before fetching the window.
func (c *Cursor) Plan(now time.Time, p Policy) (Window, bool) {
	if c.Open != nil {
		return *c.Open, true
	}
	end := now.Add(-p.Lag).UTC().Truncate(time.Second)
	if c.Next.IsZero() {
		c.Next = end.Add(-p.Lookback).Truncate(time.Second)
	}
	if p.MaxWindow > 0 && end.Sub(c.Next) > p.MaxWindow {
		end = c.Next.Add(p.MaxWindow).Truncate(time.Second)
	}
	if end.Sub(c.Next) < time.Second {
		return Window{}, false
	}
	w := Window{Start: c.Next.UTC(), End: end}
	c.Open = &w
	return w, true
}

// Close marks the open window archived: the next one starts at its end.
func (c *Cursor) Close() {
	if c.Open != nil {
		c.Next = c.Open.End
		c.Open = nil
	}
}

// PageID names a page of a window: collector/stream/window/index. The
// window is closed, so its pages come back the same, in the same order,
// each time it is fetched.
func PageID(collector, stream string, w Window, index int) string {
	return fmt.Sprintf("%s/%s/%s/%d", collector, stream, w, index)
}
