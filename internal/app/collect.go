package app

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/cylance"
	"github.com/mamori-sec/mamori/internal/collect/googleworkspace"
	"github.com/mamori-sec/mamori/internal/collect/msgraph"
	"github.com/mamori-sec/mamori/internal/collect/tail"
)

// collector is one running collector, whatever its kind.
type collector struct {
	name string
	run  func(ctx context.Context) error
}

func (c collector) Run(ctx context.Context) error { return c.run(ctx) }

// collectors builds every configured collector. A collector that cannot
// start (unreadable credentials, a corrupt state file) is an error at start,
// not a silent gap in the logs.
func (a *App) collectors() ([]collector, error) {
	env := collect.Env{Sink: a.Intake, StateDir: filepath.Join(a.Config.DataDir, "collect"), Logger: a.Logger, Now: a.now}
	var out []collector
	add := func(name string, run func(context.Context) error, err error) error {
		if err != nil {
			return fmt.Errorf("collector %s: %w", name, err)
		}
		out = append(out, collector{name: name, run: run})
		return nil
	}
	cc := a.Config.Collect
	for _, cfg := range cc.GoogleWorkspace {
		c, err := googleworkspace.New(cfg, env)
		if err := add(cfg.StateName(), runOf(c, err), err); err != nil {
			return nil, err
		}
	}
	for _, cfg := range cc.MicrosoftGraph {
		c, err := msgraph.New(cfg, env)
		if err := add(cfg.StateName(), runOf(c, err), err); err != nil {
			return nil, err
		}
	}
	for _, cfg := range cc.Cylance {
		c, err := cylance.New(cfg, env)
		if err := add(cfg.StateName(), runOf(c, err), err); err != nil {
			return nil, err
		}
	}
	for _, cfg := range cc.Tail {
		t, err := tail.New(cfg, env)
		if err := add(cfg.StateName(), runOf(t, err), err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// runOf is r.Run, or nil when r could not be made.
func runOf(r interface{ Run(context.Context) error }, err error) func(context.Context) error {
	if err != nil {
		return nil
	}
	return r.Run
}
