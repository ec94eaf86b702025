// Package googleworkspace collects Google Workspace audit activities from
// the Admin SDK Reports API (activities.list) and archives every answer page,
// exactly as received, under the application's dataset
// (google_workspace.login, .admin, .drive, .token, .device).
//
// Each application is its own stream with its own cursor. A poll queries
// closed windows [cursor, now-lag) of at most MaxWindow, pages through each
// with nextPageToken, and advances the cursor only after every page of the
// window is archived. See package poll for how windows and batch IDs make a
// crash neither lose nor duplicate pages.
package googleworkspace

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/poll"
)

// Collector polls the Reports API.
type Collector struct {
	cfg    Config
	env    collect.Env
	client *poll.Client
	win    *poll.Windows
}

// New reads the service account key, loads the collector's state from
// env.StateDir and returns the collector. A bad config or key, or a corrupt
// state file, is an error.
func New(cfg Config, env collect.Env) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	env, err := env.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("googleworkspace %s: %w", cfg.Name, err)
	}
	raw, err := collect.ReadSecret("service account key", cfg.CredentialsFile, cfg.CredentialsEnv)
	if err != nil {
		return nil, fmt.Errorf("googleworkspace %s: %w", cfg.Name, err)
	}
	sa, err := parseServiceAccount(raw)
	if err != nil {
		return nil, fmt.Errorf("googleworkspace %s: %w", cfg.Name, err)
	}
	tokenURL := cfg.TokenURL
	if tokenURL == "" {
		tokenURL = sa.tokenURL
	}
	if tokenURL == "" {
		tokenURL = DefaultTokenURL
	}

	c := &Collector{cfg: cfg, env: env}
	tokenClient := poll.NewClient(env, nil)
	auth := poll.NewTokenCache(env.Now, func(ctx context.Context) (poll.Token, error) {
		return fetchToken(ctx, tokenClient, sa, tokenURL, cfg.Subject, env.Now())
	})
	c.client = poll.NewClient(env, auth)

	var streams []poll.Stream
	for _, app := range cfg.Applications {
		streams = append(streams, poll.Stream{
			Key:     app,
			Dataset: datasetOf(app),
			Policy:  poll.Policy{Lag: cfg.lag(app), MaxWindow: cfg.MaxWindow, Lookback: cfg.InitialLookback},
			Fetch: func(ctx context.Context, w poll.Window, next string) (poll.Page, error) {
				return c.fetch(ctx, app, w, next)
			},
		})
	}
	c.win, err = poll.NewWindows(cfg.Name, "poll-"+cfg.Name, env, streams)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Run polls every Interval until ctx is done, then returns nil.
func (c *Collector) Run(ctx context.Context) error {
	return poll.Run(ctx, c.env, c.cfg.Name, c.cfg.Interval, c.Poll)
}

// Poll brings every application up to date once and returns what failed.
func (c *Collector) Poll(ctx context.Context) error { return c.win.Poll(ctx) }

// Cursor returns application app's cursor.
func (c *Collector) Cursor(app string) poll.Cursor { return c.win.Cursor(app) }

// apiTime is the Reports API's RFC 3339 form, with milliseconds.
const apiTime = "2006-01-02T15:04:05.000Z"

// fetch gets one page of app's activities in w. Both bounds are sent as
// they are. startTime is inclusive; Google does not say whether endTime is,
// so an activity stamped exactly at a window's end, to the millisecond, may
// be archived with both windows: a rare duplicate rather than a loss.
func (c *Collector) fetch(ctx context.Context, app string, w poll.Window, pageToken string) (poll.Page, error) {
	q := url.Values{}
	q.Set("startTime", w.Start.UTC().Format(apiTime))
	q.Set("endTime", w.End.UTC().Format(apiTime))
	q.Set("maxResults", strconv.Itoa(c.cfg.PageSize))
	if c.cfg.CustomerID != "" {
		q.Set("customerId", c.cfg.CustomerID)
	}
	if pageToken != "" {
		q.Set("pageToken", pageToken)
	}
	u := c.cfg.BaseURL + "/admin/reports/v1/activity/users/all/applications/" + url.PathEscape(app) + "?" + q.Encode()
	body, err := c.client.Get(ctx, u)
	if err != nil {
		return poll.Page{}, err
	}
	var page struct {
		Items         []json.RawMessage `json:"items"`
		NextPageToken string            `json:"nextPageToken"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return poll.Page{}, fmt.Errorf("activities page is not the documented JSON: %w", err)
	}
	return poll.Page{Body: body, Items: len(page.Items), Next: page.NextPageToken}, nil
}
