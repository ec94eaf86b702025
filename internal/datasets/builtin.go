// Package datasets lists the datasets mamori ships, explicitly: adding a
// dataset is one line in Builtin.
package datasets

import (
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/cef"
	"github.com/mamori-sec/mamori/internal/datasets/json"
	"github.com/mamori-sec/mamori/internal/datasets/kv"
	"github.com/mamori-sec/mamori/internal/datasets/leef"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
)

// Options carry what datasets need from the configuration.
type Options struct {
	// Location is the zone of timestamps that carry none, such as BSD
	// syslog timestamps (nil means UTC).
	Location *time.Location
	// Now is the clock used when a record has no receive time (nil means
	// time.Now).
	Now func() time.Time
}

// Builtin returns the registry of every dataset mamori ships.
func Builtin(opts Options) *dataset.Registry {
	var reg *dataset.Registry
	// The syslog dataset hands CEF and LEEF bodies on; the json dataset
	// parses the line inside a fluentd wrapper as whatever it is. Both ask
	// the registry, which exists by the time they parse.
	body := func(data []byte) (dataset.Dataset, bool) {
		switch name := dataset.Detect(data); name {
		case dataset.CEF, dataset.LEEF:
			return reg.Lookup(name)
		}
		return dataset.Dataset{}, false
	}
	inner := func(data []byte) (dataset.Dataset, bool) { return reg.Detect(data) }
	claim := func(l dataset.Line) (dataset.Dataset, bool) { return reg.Claim(l) }

	reg = dataset.NewRegistry(
		syslog.New(syslog.Options{Location: opts.Location, Now: opts.Now, Body: body, Claim: claim}),
		cef.New(cef.Options{Location: opts.Location}),
		leef.New(leef.Options{Location: opts.Location}),
		kv.New(kv.Options{Location: opts.Location}),
		json.New(json.Options{Location: opts.Location, Inner: inner}),
	)
	return reg
}
