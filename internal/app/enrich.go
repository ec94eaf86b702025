package app

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/enrich"
	"github.com/mamori-sec/mamori/internal/enrich/dhcp"
	"github.com/mamori-sec/mamori/internal/enrich/geoip"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/search"
)

// openEnrichment builds the read-time enrichers the configuration asks
// for. A configured GeoIP file that cannot be opened is an error at start.
func (a *App) openEnrichment() error {
	ec := a.Config.Enrichment
	var chain []enrich.Enricher
	if ec.DHCP.On() {
		a.Leases = dhcp.New(dhcp.Options{Retention: time.Duration(ec.DHCP.Retention),
			DefaultLease: time.Duration(ec.DHCP.DefaultLease), Now: a.now, Logger: a.Logger})
		chain = append(chain, a.Leases)
	}
	if g := ec.GeoIP; g.CityDatabase != "" || g.ASNDatabase != "" {
		var skip []netip.Prefix
		for _, n := range g.SkipNetworks {
			p, err := netip.ParsePrefix(n)
			if err != nil {
				return fmt.Errorf("enrichment.geoip.skip_networks: %w", err)
			}
			skip = append(skip, p)
		}
		db, err := geoip.New(geoip.Options{City: g.CityDatabase, ASN: g.ASNDatabase, Skip: skip, Verify: g.Verify, Logger: a.Logger})
		if err != nil {
			return fmt.Errorf("enrichment.geoip: %w", err)
		}
		a.Geo = db
		chain = append(chain, db)
	}
	if len(chain) == 0 {
		return nil
	}
	a.Enrich = enrich.NewChain(a.Logger, chain...)
	a.Searcher.Enrich = a.Enrich.Enrich
	// The lease table learns from committed batches in onCommit.
	return nil
}

// runEnrichment rebuilds the lease table from stored dhcp.lease events and
// keeps the GeoIP files fresh, until ctx is done; wg tracks the goroutines,
// which must end before the store closes.
func (a *App) runEnrichment(ctx context.Context, wg *sync.WaitGroup) {
	if a.Geo != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Geo.Watch(ctx, time.Duration(a.Config.Enrichment.GeoIP.ReloadInterval))
		}()
	}
	if a.Leases == nil {
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := a.Leases.Replay(ctx, a.leaseEvents); err != nil && ctx.Err() == nil {
			a.Logger.Error("rebuilding the DHCP lease table", "err", err)
		}
	}()
}

// leaseEvents yields every stored dhcp.lease event from since on, page by
// page, oldest first.
func (a *App) leaseEvents(ctx context.Context, since time.Time, yield func(*event.Event) bool) error {
	req := search.Request{Query: "event.dataset:" + dhcp.Dataset, From: since, Limit: 5000, Asc: true}
	for {
		res, err := a.Searcher.Search(ctx, req)
		if err != nil {
			return fmt.Errorf("read dhcp.lease events: %w", err)
		}
		for _, e := range res.Events {
			if !yield(e) {
				return nil
			}
		}
		if res.Next == "" {
			return nil
		}
		req.Cursor = res.Next
	}
}
