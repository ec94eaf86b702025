// Package msgraph collects Microsoft Entra ID sign-in and directory audit
// logs from Microsoft Graph (auditLogs/signIns, auditLogs/directoryAudits)
// and archives every answer page, exactly as received, under azure.signinlogs
// or azure.auditlogs.
//
// Each list is a stream with its own cursor, queried in closed windows
// ($filter=<time> ge start and <time> lt end) a lag behind the clock and
// paged by following @odata.nextLink verbatim. See package poll.
package msgraph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/poll"
)

// Collector polls Graph's audit logs.
type Collector struct {
	cfg    Config
	env    collect.Env
	client *poll.Client
	win    *poll.Windows
	origin string // scheme://host of BaseURL: next links must stay on it
}

// New reads the client secret, loads the collector's state from
// env.StateDir and returns the collector.
func New(cfg Config, env collect.Env) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	env, err := env.WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("msgraph %s: %w", cfg.Name, err)
	}
	secret, err := collect.ReadSecret("client secret", cfg.ClientSecretFile, cfg.ClientSecretEnv)
	if err != nil {
		return nil, fmt.Errorf("msgraph %s: %w", cfg.Name, err)
	}
	base, err := url.Parse(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("msgraph %s: base_url: %w", cfg.Name, err)
	}
	c := &Collector{cfg: cfg, env: env, origin: base.Scheme + "://" + base.Host}

	tokenClient := poll.NewClient(env, nil)
	tokenURL := cfg.LoginURL + "/" + url.PathEscape(cfg.TenantID) + "/oauth2/v2.0/token"
	auth := poll.NewTokenCache(env.Now, func(ctx context.Context) (poll.Token, error) {
		return fetchToken(ctx, tokenClient, tokenURL, cfg.ClientID, string(secret), cfg.Scope, env.Now())
	})
	c.client = poll.NewClient(env, auth)

	var streams []poll.Stream
	for _, name := range cfg.Sources {
		src, _ := sourceOf(name)
		streams = append(streams, poll.Stream{
			Key:     src.name,
			Dataset: src.dataset,
			Policy:  poll.Policy{Lag: cfg.Lag, MaxWindow: cfg.MaxWindow, Lookback: cfg.InitialLookback},
			Fetch: func(ctx context.Context, w poll.Window, next string) (poll.Page, error) {
				return c.fetch(ctx, src, w, next)
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

// Poll brings every source up to date once and returns what failed.
func (c *Collector) Poll(ctx context.Context) error { return c.win.Poll(ctx) }

// Cursor returns source name's cursor.
func (c *Collector) Cursor(name string) poll.Cursor { return c.win.Cursor(name) }

// firstURL is the query of window w: entries with start <= time < end.
func (c *Collector) firstURL(src source, w poll.Window) string {
	filter := fmt.Sprintf("%s ge %s and %s lt %s",
		src.timeField, w.Start.UTC().Format(time.RFC3339), src.timeField, w.End.UTC().Format(time.RFC3339))
	// Spaces as %20: '+' is not a space to every OData server.
	esc := strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	return c.cfg.BaseURL + src.path + "?$filter=" + esc + "&$top=" + strconv.Itoa(c.cfg.PageSize)
}

func (c *Collector) fetch(ctx context.Context, src source, w poll.Window, next string) (poll.Page, error) {
	u := next
	if u == "" {
		u = c.firstURL(src, w)
	} else if err := c.checkNextLink(next); err != nil {
		return poll.Page{}, err
	}
	body, err := c.client.Get(ctx, u)
	if err != nil {
		return poll.Page{}, err
	}
	var page struct {
		Value    []json.RawMessage `json:"value"`
		NextLink string            `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return poll.Page{}, fmt.Errorf("%s page is not the documented JSON: %w", src.name, err)
	}
	return poll.Page{Body: body, Items: len(page.Value), Next: page.NextLink}, nil
}

// checkNextLink refuses a next link to another host: the request carries
// the access token.
func (c *Collector) checkNextLink(link string) error {
	u, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("@odata.nextLink is not a URL: %w", err)
	}
	if u.Scheme+"://"+u.Host != c.origin {
		return fmt.Errorf("@odata.nextLink points to %s://%s, not %s; not following it with the access token", u.Scheme, u.Host, c.origin)
	}
	return nil
}
