package enrich_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/enrich"
	"github.com/mamori-sec/mamori/internal/enrich/dhcp"
	"github.com/mamori-sec/mamori/internal/enrich/geoip"
	"github.com/mamori-sec/mamori/internal/event"
)

type setField struct{ field, value string }

func (s setField) Enrich(_ context.Context, evs []*event.Event) {
	for _, e := range evs {
		if !e.Has(s.field) {
			e.Set(s.field, s.value)
			enrich.Added(e, s.field)
		}
	}
}

type panics struct{}

func (panics) Enrich(context.Context, []*event.Event) { panic("boom") }

// cancels cancels the context the chain runs with, to see that the chain
// does not go on to the next enricher.
type cancels struct{ cancel context.CancelFunc }

func (c cancels) Enrich(context.Context, []*event.Event) { c.cancel() }

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestChainRunsInOrderAndRecordsFields(t *testing.T) {
	c := enrich.NewChain(quiet(), setField{"a.b", "first"}, nil, setField{"a.b", "second"}, setField{"c.d", "x"})
	e := event.New(4)
	c.Enrich(context.Background(), []*event.Event{e})
	if got := e.String("a.b"); got != "first" {
		t.Errorf("a.b = %q, want the first enricher's value (later ones do not overwrite)", got)
	}
	if got := e.String("c.d"); got != "x" {
		t.Errorf("c.d = %q, want x", got)
	}
	if got := e.Strings(enrich.FieldEnriched); !reflect.DeepEqual(got, []string{"a.b", "c.d"}) {
		t.Errorf("%s = %v, want [a.b c.d]", enrich.FieldEnriched, got)
	}
}

func TestNilChainDoesNothing(t *testing.T) {
	var c *enrich.Chain
	e := event.New(1)
	c.Enrich(context.Background(), []*event.Event{e})
	if e.Len() != 0 || c.Panics() != 0 {
		t.Errorf("nil chain changed the event (%d fields) or counted panics", e.Len())
	}
}

func TestChainSurvivesAPanic(t *testing.T) {
	c := enrich.NewChain(quiet(), setField{"a.b", "1"}, panics{}, setField{"c.d", "2"})
	e := event.New(4)
	c.Enrich(context.Background(), []*event.Event{e})
	if c.Panics() != 1 {
		t.Errorf("Panics() = %d, want 1", c.Panics())
	}
	if e.String("a.b") != "1" || e.String("c.d") != "2" {
		t.Errorf("enrichers around the panicking one did not run: %v %v", e.String("a.b"), e.String("c.d"))
	}
}

func TestChainStopsWhenContextDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := enrich.NewChain(quiet(), cancels{cancel}, setField{"a.b", "1"})
	e := event.New(1)
	c.Enrich(ctx, []*event.Event{e})
	if e.Has("a.b") {
		t.Error("the enricher after the context was cancelled ran")
	}
}

func TestChainOfNilPackageEnrichers(t *testing.T) {
	// The lead may build a chain before knowing what is configured: typed
	// nil enrichers do nothing.
	var table *dhcp.Table
	var geo *geoip.DB
	c := enrich.NewChain(quiet(), table, geo)
	e := event.New(4)
	e.Set(event.FieldTimestamp, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	e.Set("source.ip", "10.0.0.5")
	c.Enrich(context.Background(), []*event.Event{e})
	if e.Len() != 2 || c.Panics() != 0 {
		t.Errorf("nil enrichers changed the event: %v (panics %d)", e.Keys(), c.Panics())
	}
}
