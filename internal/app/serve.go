package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/intake/syslog"
)

// listener is a started syslog listener.
type listener interface {
	Addr() net.Addr
	Close() error
}

// Serve runs the listeners, the processor and the periodic jobs until ctx is
// cancelled, then shuts down in order: stop intake (flushing what listeners
// hold), let the processor finish its batch, close the store. ready, when
// set, is called with the bound addresses once everything listens.
func (a *App) Serve(ctx context.Context, version string, ready func(addrs map[string]string)) error {
	if err := a.Recover(ctx); err != nil {
		return fmt.Errorf("recover: %w", err)
	}
	if _, err := a.Scanner.ScanSources(ctx); err != nil {
		a.Logger.Error("source scan failed", "err", err)
	}

	procCtx, stopProc := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		// The rules catch up on the last stored events before new ones
		// are processed, so that correlations see them in order.
		if a.Detect != nil {
			a.Detect.Replay(procCtx)
		}
		a.Processor.Run(procCtx, a.Queue, a.Config.Processing.Workers)
		if a.Detect != nil {
			// Alert changes still waiting (alerts.flush_interval) are
			// stored before the store closes.
			if err := a.Detect.Alerts.Close(context.WithoutCancel(procCtx)); err != nil {
				a.Logger.Error("storing the last alert changes", "err", err)
			}
		}
	}()
	defer func() {
		stopProc()
		wg.Wait()
	}()
	if a.Detect != nil {
		// Notifications waiting from before the restart go out now.
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = a.Detect.Sender.Run(procCtx)
		}()
	}

	a.runEnrichment(ctx, &wg)
	collectors, err := a.collectors()
	if err != nil {
		return err
	}
	collectCtx, stopCollect := context.WithCancel(ctx)
	defer stopCollect()
	for _, c := range collectors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Run(collectCtx); err != nil {
				a.Logger.Error("collector stopped", "collector", c.name, "err", err)
			}
		}()
		a.Logger.Info("collecting", "collector", c.name)
	}

	addrs := map[string]string{}
	sm, err := syslog.NewMetrics(a.Metrics.Registry)
	if err != nil {
		return err
	}
	var listeners []listener
	closeListeners := func() {
		for _, l := range listeners {
			if err := l.Close(); err != nil {
				a.Logger.Error("closing listener", "addr", l.Addr(), "err", err)
			}
		}
	}
	for _, lc := range a.Config.Syslog {
		l, err := a.startSyslog(ctx, lc, sm)
		if err != nil {
			closeListeners()
			return err
		}
		listeners = append(listeners, l)
		addrs[lc.Name] = l.Addr().String()
		a.Logger.Info("listening", "listener", lc.Name, "protocol", lc.Protocol, "addr", l.Addr().String(), "dataset", lc.Dataset)
	}

	var httpSrv *http.Server
	httpErr := make(chan error, 1)
	if a.Config.HTTP.Address != "" {
		srv := &api.Server{Sink: a.Intake, Datasets: a.Datasets, Searcher: a.Searcher, Metrics: a.Metrics,
			Logger: a.Logger, Now: a.now, MaxBodyBytes: int64(a.Config.HTTP.MaxBodyBytes), Version: version,
			Health: a.health, Scan: a.scanAll, Pprof: a.Config.HTTP.Pprof}
		if a.Detect != nil {
			srv.Alerts, srv.Rules = a.Detect, a.Detect
		}
		srv.Sources = api.NewSources(a.Metrics, a.Config.Console.StaleFor, a.now)
		go srv.Sources.Run(procCtx)
		if err := a.secureAPI(procCtx, srv, &wg); err != nil {
			closeListeners()
			return err
		}
		ln, err := net.Listen("tcp", a.Config.HTTP.Address)
		if err != nil {
			closeListeners()
			return fmt.Errorf("http listen %s: %w", a.Config.HTTP.Address, err)
		}
		httpSrv = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
		addrs["http"] = ln.Addr().String()
		a.Logger.Info("listening", "listener", "http", "addr", ln.Addr().String())
		go func() {
			var err error
			if a.Config.HTTP.TLSCert != "" {
				err = httpSrv.ServeTLS(ln, a.Config.HTTP.TLSCert, a.Config.HTTP.TLSKey)
			} else {
				err = httpSrv.Serve(ln)
			}
			if !errors.Is(err, http.ErrServerClosed) {
				httpErr <- err
			}
		}()
	}
	if ready != nil {
		ready(addrs)
	}

	wg.Add(1)
	go func() {
		defer wg.Done()
		a.periodic(procCtx)
	}()

	var runErr error
	select {
	case <-ctx.Done():
		a.Logger.Info("shutting down")
	case err := <-httpErr:
		runErr = fmt.Errorf("http server: %w", err)
	}
	// Intake first, so that everything received is archived before exit.
	if httpSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := httpSrv.Shutdown(sctx); err != nil {
			a.Logger.Error("http shutdown", "err", err)
		}
		cancel()
	}
	closeListeners()
	return runErr
}

func (a *App) startSyslog(ctx context.Context, lc config.Listener, m *syslog.Metrics) (listener, error) {
	cfg := syslog.Config{
		Name: lc.Name, Address: lc.Address, Dataset: lc.Dataset,
		MaxMessageSize: int(lc.MaxMessageBytes), FlushInterval: time.Duration(lc.FlushInterval),
		FlushBytes: int(lc.FlushBytes), MaxConnections: lc.MaxConnections,
	}
	if lc.Protocol == "tls" {
		cfg.TLS = syslog.TLSConfig{CertFile: lc.TLSCert, KeyFile: lc.TLSKey, ClientCAFile: lc.TLSClientCA}
	}
	if lc.Protocol == "udp" {
		l, err := syslog.NewUDP(cfg, a.Intake, a.Logger, syslog.WithMetrics(m), syslog.WithClock(a.now))
		if err != nil {
			return nil, fmt.Errorf("syslog %s: %w", lc.Name, err)
		}
		if err := l.Start(ctx); err != nil {
			return nil, fmt.Errorf("syslog %s: %w", lc.Name, err)
		}
		return l, nil
	}
	l, err := syslog.NewTCP(cfg, a.Intake, a.Logger, syslog.WithMetrics(m), syslog.WithClock(a.now))
	if err != nil {
		return nil, fmt.Errorf("syslog %s: %w", lc.Name, err)
	}
	if err := l.Start(ctx); err != nil {
		return nil, fmt.Errorf("syslog %s: %w", lc.Name, err)
	}
	return l, nil
}

// periodic runs the gauges, source scans and retention until ctx ends.
func (a *App) periodic(ctx context.Context) {
	gauges := time.NewTicker(5 * time.Second)
	scan := time.NewTicker(time.Duration(a.Config.Processing.ScanInterval))
	retention := time.NewTicker(time.Duration(a.Config.Retention.Interval))
	defer gauges.Stop()
	defer scan.Stop()
	defer retention.Stop()
	if err := a.ApplyRetention(ctx); err != nil && ctx.Err() == nil {
		a.Logger.Error("retention", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-gauges.C:
			a.UpdateGauges(ctx)
		case <-scan.C:
			if len(a.Config.Sources) > 0 {
				if _, err := a.Scanner.ScanSources(ctx); err != nil && ctx.Err() == nil {
					a.Logger.Error("source scan", "err", err)
				}
			}
		case <-retention.C:
			if err := a.ApplyRetention(ctx); err != nil && ctx.Err() == nil {
				a.Logger.Error("retention", "err", err)
			}
		}
	}
}

func (a *App) health(ctx context.Context) map[string]any {
	objects, bytes := a.Queue.Pending()
	return map[string]any{"queue_objects": objects, "queue_bytes": bytes}
}

// scanAll looks for unannounced objects in raw/ and the source prefixes.
func (a *App) scanAll(ctx context.Context) (int, error) {
	own, err := a.Scanner.ScanOwn(ctx)
	if err != nil {
		return own, err
	}
	src, err := a.Scanner.ScanSources(ctx)
	return own + src, err
}
