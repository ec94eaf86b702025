package app

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/mamori-sec/mamori/internal/search"
)

// OpenAccess builds the configuration's access control: users and grants,
// sessions and tokens under the data directory, and the audit log written
// through the app's intake.
func (a *App) OpenAccess() (*auth.Service, error) {
	return auth.NewService(a.Config.Auth, auth.Options{DataDir: a.Config.DataDir, Sink: a.Intake,
		Logger: a.Logger, Now: a.now})
}

// secureAPI gives the API server its access control, and runs, until ctx
// ends, what keeps it current: token file changes (each new or revoked
// token is audited), audit flushes, and saving sessions' last use. The
// last audit records are flushed when ctx ends.
func (a *App) secureAPI(ctx context.Context, srv *api.Server, wg *sync.WaitGroup) error {
	svc, err := a.OpenAccess()
	if err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	srv.Auth = svc
	if !svc.Enabled() {
		if !config.IsLoopback(a.Config.HTTP.Address) {
			a.Logger.Warn("NO AUTHENTICATION: the HTTP API listens beyond loopback and no user is configured, "+
				"so anyone who reaches it can search every log, send logs and change alerts; configure auth.users (docs/access.md)",
				"addr", a.Config.HTTP.Address)
		}
		return nil
	}
	a.Logger.Info("access control on", "users", len(svc.Dir.Users()))
	var mu sync.Mutex
	var tokenBatches []intake.Batch
	svc.Tokens.OnChange = func(t auth.Token, action string) {
		_, b := auth.TokenAudit(t, action)
		mu.Lock()
		tokenBatches = append(tokenBatches, b)
		mu.Unlock()
	}
	flush := func(ctx context.Context) {
		if err := svc.Tokens.Refresh(); err != nil {
			a.Logger.Error("reading the API tokens", "err", err)
		}
		mu.Lock()
		batches := tokenBatches
		tokenBatches = nil
		mu.Unlock()
		for i, b := range batches {
			if err := svc.Audit.WriteBatch(ctx, b); err != nil {
				a.Logger.Error("audit of a token change not archived; will retry", "err", err)
				mu.Lock()
				tokenBatches = append(batches[i:], tokenBatches...)
				mu.Unlock()
				break
			}
		}
		if err := svc.Audit.Flush(ctx); err != nil {
			a.Logger.Error("audit records not archived yet; will retry", "err", err)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Duration(a.Config.Auth.AuditFlushInterval))
		defer tick.Stop()
		save := time.NewTicker(30 * time.Second)
		defer save.Stop()
		for {
			select {
			case <-ctx.Done():
				// The server has stopped answering: what it recorded goes
				// to the archive before the store closes.
				flush(context.WithoutCancel(ctx))
				if err := svc.Sessions.Save(); err != nil {
					a.Logger.Error("saving console sessions", "err", err)
				}
				return
			case <-tick.C:
				flush(ctx)
			case <-save.C:
				if err := svc.Sessions.Save(); err != nil {
					a.Logger.Error("saving console sessions", "err", err)
				}
			}
		}
	}()
	return nil
}

// alertsPage is how many alerts a restricted reader's listing reads from
// the store at a time.
const alertsPage = 500

// visibleAlert reports whether the reader of ctx sees the alert: one
// raised on a dataset hidden from the reader is not listed, shown,
// counted, acknowledged or resolved for it.
func visibleAlert(ctx context.Context, al alert.Alert) bool {
	return search.AccessFrom(ctx).Sees(al.Dataset)
}

// listVisible lists the alerts the reader of ctx sees. A reader who sees
// every dataset gets the store's page as it is; for others the store is
// read page by page and f's offset and limit apply to the alerts kept.
func (d *Detection) listVisible(ctx context.Context, f alert.Filter) ([]alert.Alert, error) {
	if search.AccessFrom(ctx).All() {
		return d.Alerts.List(ctx, f)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	skip := f.Offset
	page := f
	page.Limit, page.Offset = alertsPage, 0
	var out []alert.Alert
	for {
		list, err := d.Alerts.List(ctx, page)
		if err != nil {
			return nil, err
		}
		for _, al := range list {
			if !visibleAlert(ctx, al) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, al)
			if len(out) == limit {
				return out, nil
			}
		}
		if len(list) < alertsPage {
			return out, nil
		}
		page.Offset += alertsPage
	}
}

// getVisible returns an alert the reader of ctx sees; one it does not is
// not found.
func (d *Detection) getVisible(ctx context.Context, id string) (alert.Alert, error) {
	al, err := d.Alerts.Get(ctx, id)
	if err != nil {
		return al, err
	}
	if !visibleAlert(ctx, al) {
		return alert.Alert{}, fmt.Errorf("alert %s: %w", id, alert.ErrNotFound)
	}
	return al, nil
}
