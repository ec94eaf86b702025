package poll

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/state"
	"github.com/mamori-sec/mamori/internal/intake"
)

// Page is one API answer of a windowed query.
type Page struct {
	// Body is the answer exactly as received; it is archived as one record.
	Body []byte
	// Items is how many events the page holds. A page without any is not
	// archived (it would hold no event), but paging goes on past it.
	Items int
	// Next continues the query: a page token or a next link, "" after the
	// last page.
	Next string
}

// Stream is one windowed source of a collector: one API list, one dataset.
type Stream struct {
	// Key names the stream in the state file, batch IDs and logs, such as
	// "login" or "signins".
	Key string
	// Dataset is the dataset of its batches.
	Dataset string
	// Policy says which windows it queries.
	Policy Policy
	// Fetch returns a page of window w: the first when next is "", else
	// the one the previous page's Next points to.
	Fetch func(ctx context.Context, w Window, next string) (Page, error)
}

// Windows polls a collector's windowed streams and keeps their cursors in
// the collector's state file.
type Windows struct {
	name     string
	listener string
	env      collect.Env
	store    *state.Store
	streams  []Stream
	st       windowsState
}

// windowsState is the state file of a windowed collector.
type windowsState struct {
	Version int                `json:"version"`
	Streams map[string]*Cursor `json:"streams"`
}

// NewWindows loads the state of the collector name (its state file is
// name.json in env.StateDir) and returns the poller of its streams, whose
// batches are labelled listener. env must have its defaults set. A state
// file that cannot be read is an error.
func NewWindows(name, listener string, env collect.Env, streams []Stream) (*Windows, error) {
	store, err := state.Open(env.StateDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	w := &Windows{name: name, listener: listener, env: env, store: store, streams: streams}
	if _, err := store.Load(name, &w.st); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if w.st.Streams == nil {
		w.st.Streams = make(map[string]*Cursor)
	}
	w.st.Version = 1
	return w, nil
}

// Cursor returns a copy of stream key's cursor, for tests and status pages.
func (w *Windows) Cursor(key string) Cursor {
	if c := w.st.Streams[key]; c != nil {
		cc := *c
		if c.Open != nil {
			o := *c.Open
			cc.Open = &o
		}
		return cc
	}
	return Cursor{}
}

// Poll brings every stream up to now-Lag, window by window. A stream that
// fails stops at its failed window, which the next Poll fetches again; the
// other streams go on. The errors are returned joined.
func (w *Windows) Poll(ctx context.Context) error {
	var errs []error
	for _, s := range w.streams {
		if err := w.pollStream(ctx, s); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			errs = append(errs, fmt.Errorf("%s %s: %w", w.name, s.Key, err))
		}
	}
	return errors.Join(errs...)
}

func (w *Windows) pollStream(ctx context.Context, s Stream) error {
	c := w.st.Streams[s.Key]
	if c == nil {
		c = &Cursor{}
		w.st.Streams[s.Key] = c
	}
	for ctx.Err() == nil {
		wasOpen := c.Open != nil
		win, ok := c.Plan(w.env.Now(), s.Policy)
		if !ok {
			return nil
		}
		if !wasOpen {
			// Persist the window before fetching it: after a crash the same
			// window is fetched again and its pages keep their IDs.
			if err := w.save(); err != nil {
				return err
			}
		}
		pages, records, err := w.fetchWindow(ctx, s, win)
		if err != nil {
			return fmt.Errorf("window %s: %w", win, err)
		}
		c.Close()
		if err := w.save(); err != nil {
			return err
		}
		w.env.Logger.Debug("window archived", "collector", w.name, "stream", s.Key,
			"window", win.String(), "pages", pages, "archived_pages", records)
	}
	return ctx.Err()
}

// fetchWindow archives every page of win that holds events, each as a batch
// named by PageID and received at the window's start, so that fetching the
// window again writes the same objects.
func (w *Windows) fetchWindow(ctx context.Context, s Stream, win Window) (pages, archived int, err error) {
	next := ""
	seen := map[string]bool{}
	for index := 0; ; index++ {
		p, err := s.Fetch(ctx, win, next)
		if err != nil {
			return index, archived, fmt.Errorf("page %d: %w", index, err)
		}
		if p.Items > 0 {
			b := intake.Batch{
				Dataset:  s.Dataset,
				Listener: w.listener,
				ID:       PageID(w.name, s.Key, win, index),
				Records:  []intake.Record{{Data: p.Body, Received: win.Start}},
			}
			if err := WriteBatch(ctx, w.env, b); err != nil {
				return index, archived, fmt.Errorf("page %d: %w", index, err)
			}
			archived++
		}
		if p.Next == "" {
			return index + 1, archived, nil
		}
		if seen[p.Next] {
			return index + 1, archived, fmt.Errorf("page %d: the API returned a continuation it returned before; stopping to avoid a loop", index)
		}
		seen[p.Next] = true
		next = p.Next
	}
}

func (w *Windows) save() error {
	if err := w.store.Save(w.name, &w.st); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}

// WriteBatch hands b to env.Sink, waiting and trying again while the sink
// sheds load (intake.ErrBusy); other errors are returned at once.
func WriteBatch(ctx context.Context, env collect.Env, b intake.Batch) error {
	wait := 100 * time.Millisecond
	for {
		err := env.Sink.Write(ctx, b)
		if err == nil || !errors.Is(err, intake.ErrBusy) {
			if err != nil {
				return fmt.Errorf("archive batch %s: %w", b.ID, err)
			}
			return nil
		}
		env.Logger.Warn("sink busy; waiting to archive", "dataset", b.Dataset, "batch", b.ID, "wait", wait)
		if err := env.Sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(2*wait, 10*time.Second)
	}
}
