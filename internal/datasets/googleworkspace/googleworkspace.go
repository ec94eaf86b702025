// Package googleworkspace holds the Google Workspace audit datasets: the
// Admin SDK Reports API activities of the login, admin, drive, token and
// mobile (device) applications, mapped to ECS.
//
// A record is either one activity (the one-per-line form shippers write) or
// a whole activities.list response page, as the API poller archives it. An
// activity with several events gives one ECS event per event, and each
// event's dataset follows the activity's applicationName, whichever of the
// five datasets parsed it.
package googleworkspace

import (
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	dssyslog "github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Dataset names, also the event.dataset values.
const (
	LoginName  = "google_workspace.login"
	AdminName  = "google_workspace.admin"
	DriveName  = "google_workspace.drive"
	TokenName  = "google_workspace.token"
	DeviceName = "google_workspace.device"
)

// Options configure the datasets.
type Options struct {
	// Location is the zone of a relaying syslog header's timestamp that
	// carries none (nil means UTC). The API's own times are UTC.
	Location *time.Location
	// Now is the reference clock for such a header when a record has no
	// receive time (nil means time.Now).
	Now func() time.Time
}

// New returns the five datasets, in the order login, admin, drive, token,
// device.
func New(opts Options) []dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	apps := appTable()
	out := make([]dataset.Dataset, 0, len(apps))
	for i := range apps {
		a := &apps[i]
		out = append(out, dataset.Dataset{
			Name:        a.dataset,
			Description: a.description,
			Parser:      &parser{own: a, apps: apps, loc: loc, now: now},
			Claim:       claimFor(a),
		})
	}
	return out
}

type parser struct {
	own  *app  // the dataset asked to parse
	apps []app // all five: an activity's applicationName picks its own
	loc  *time.Location
	now  func() time.Time
}

// Parse maps a response page (one event per activity and event) or a
// single activity. A page without items carries no event.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	data, header := p.unwrapSyslog(rec)
	root, err := jsontree.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("googleworkspace: %w", err)
	}
	if root.Kind() != jsontree.Object {
		return nil, fmt.Errorf("googleworkspace: record is not a JSON object")
	}
	var evs []*event.Event
	switch {
	case isPage(root):
		for item := range root.Get("items").Elements() {
			if item.Kind() == jsontree.Object {
				evs = p.appendActivity(evs, item)
			}
		}
	case isActivity(root):
		evs = p.appendActivity(evs, root)
	default:
		return nil, fmt.Errorf("googleworkspace: record is neither an activities page nor an activity (no items, id or events)")
	}
	if header != nil {
		for _, ev := range evs {
			dssyslog.SetHeader(ev, header, p.loc, true)
		}
	}
	return evs, nil
}

const (
	pageKind     = "admin#reports#activities"
	activityKind = "admin#reports#activity"
)

func isPage(v jsontree.Value) bool {
	return v.Get("kind").Str() == pageKind || v.Get("items").Kind() == jsontree.Array
}

func isActivity(v jsontree.Value) bool {
	return v.Get("kind").Str() == activityKind || v.Get("id").Kind() == jsontree.Object || v.Get("events").Exists()
}

// unwrapSyslog returns the JSON document of a record, removing a syslog
// header in front of it when the record was relayed over syslog.
func (p *parser) unwrapSyslog(rec dataset.Record) ([]byte, *parsesyslog.Message) {
	ref := rec.Received
	if ref.IsZero() {
		ref = p.now()
	}
	return dssyslog.JSONBody(rec.Data, ref, p.loc)
}
