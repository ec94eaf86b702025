// Package cylance collects threats and devices from the Cylance PROTECT API
// v2 and archives them under the cylance.protect dataset.
//
// These lists have no time filter, so each poll reads a list whole:
//
//   - Threats: every threat whose last_found falls in a closed window
//     [cursor, now-lag) is archived as one record, the threat's JSON object
//     exactly as the page held it; the cursor then moves to the window's
//     end. A threat found again later gets a later last_found and is
//     archived again, once per window it falls in, which is the event
//     worth keeping. Threats are ordered by last_found and sha256 and the
//     window is persisted before it is fetched, so a restart after a crash
//     writes the same batches under the same IDs.
//   - Devices: a snapshot of the whole list, each answer page one record,
//     once per DeviceInterval (the interval's start is the snapshot's
//     time and part of its batch IDs).
package cylance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/poll"
	"github.com/mamori-sec/mamori/internal/collect/state"
)

// Collector polls the Cylance API.
type Collector struct {
	cfg    Config
	env    collect.Env
	client *poll.Client
	store  *state.Store
	st     fileState
}

// fileState is the collector's state file.
type fileState struct {
	Version int `json:"version"`
	// Threats is the threat list's cursor over last_found.
	Threats poll.Cursor `json:"threats"`
	// DevicesSnapshot is the time of the last complete device snapshot.
	DevicesSnapshot time.Time `json:"devices_snapshot,omitzero"`
}

// New reads the application secret, loads the collector's state from
// env.StateDir and returns the collector.
func New(cfg Config, env collect.Env) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	env, err := env.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("cylance %s: %w", cfg.Name, err)
	}
	secret, err := collect.ReadSecret("application secret", cfg.AppSecretFile, cfg.AppSecretEnv)
	if err != nil {
		return nil, fmt.Errorf("cylance %s: %w", cfg.Name, err)
	}
	store, err := state.Open(env.StateDir)
	if err != nil {
		return nil, fmt.Errorf("cylance %s: %w", cfg.Name, err)
	}
	c := &Collector{cfg: cfg, env: env, store: store}
	if _, err := store.Load(cfg.Name, &c.st); err != nil {
		return nil, fmt.Errorf("cylance %s: %w", cfg.Name, err)
	}
	c.st.Version = 1
	tokenClient := poll.NewClient(env, nil)
	auth := poll.NewTokenCache(env.Now, func(ctx context.Context) (poll.Token, error) {
		return fetchToken(ctx, tokenClient, cfg.BaseURL, cfg.AppID, cfg.TenantID, secret, cfg.TokenLifetime, env.Now())
	})
	c.client = poll.NewClient(env, auth)
	return c, nil
}

// Run polls every Interval until ctx is done, then returns nil.
func (c *Collector) Run(ctx context.Context) error {
	return poll.Run(ctx, c.env, c.cfg.Name, c.cfg.Interval, c.Poll)
}

// Poll archives the threats of the window now due and, when one is due, a
// device snapshot. It returns what failed.
func (c *Collector) Poll(ctx context.Context) error {
	var errs []error
	if c.cfg.has("threats") {
		if err := c.pollThreats(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cylance %s threats: %w", c.cfg.Name, err))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if c.cfg.has("devices") {
		if err := c.pollDevices(ctx); err != nil {
			errs = append(errs, fmt.Errorf("cylance %s devices: %w", c.cfg.Name, err))
		}
	}
	return errors.Join(errs...)
}

// ThreatsCursor returns the threat list's cursor.
func (c *Collector) ThreatsCursor() poll.Cursor {
	cur := c.st.Threats
	if cur.Open != nil {
		o := *cur.Open
		cur.Open = &o
	}
	return cur
}

// page is a Cylance v2 list answer.
type page struct {
	PageNumber int               `json:"page_number"`
	TotalPages int               `json:"total_pages"`
	Items      []json.RawMessage `json:"page_items"`
}

// maxPages bounds a list walk, against an API that never stops paging.
const maxPages = 100000

// getPage fetches page number n (from 1) of list ("/threats/v2").
func (c *Collector) getPage(ctx context.Context, list string, n int) ([]byte, page, error) {
	q := url.Values{}
	q.Set("page", strconv.Itoa(n))
	q.Set("page_size", strconv.Itoa(c.cfg.PageSize))
	body, err := c.client.Get(ctx, c.cfg.BaseURL+list+"?"+q.Encode())
	if err != nil {
		return nil, page{}, err
	}
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, page{}, fmt.Errorf("page %d is not the documented JSON: %w", n, err)
	}
	return body, p, nil
}

// walk calls fn with every page of list, from the first to total_pages or
// the first empty one.
func (c *Collector) walk(ctx context.Context, list string, fn func(n int, body []byte, p page) error) error {
	for n := 1; ; n++ {
		if n > maxPages {
			return fmt.Errorf("%s: more than %d pages; stopping", list, maxPages)
		}
		body, p, err := c.getPage(ctx, list, n)
		if err != nil {
			return fmt.Errorf("%s page %d: %w", list, n, err)
		}
		if len(p.Items) == 0 {
			return nil
		}
		if err := fn(n, body, p); err != nil {
			return err
		}
		if n >= p.TotalPages {
			return nil
		}
	}
}

func (c *Collector) save() error {
	if err := c.store.Save(c.cfg.Name, &c.st); err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return nil
}
