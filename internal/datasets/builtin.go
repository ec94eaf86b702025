// Package datasets lists the datasets mamori ships, explicitly: adding a
// dataset is one line in Builtin.
package datasets

import (
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/accesslog"
	"github.com/mamori-sec/mamori/internal/datasets/aws/cloudtrail"
	"github.com/mamori-sec/mamori/internal/datasets/aws/elb"
	"github.com/mamori-sec/mamori/internal/datasets/aws/guardduty"
	"github.com/mamori-sec/mamori/internal/datasets/aws/vpcflow"
	"github.com/mamori-sec/mamori/internal/datasets/aws/waf"
	"github.com/mamori-sec/mamori/internal/datasets/azure"
	"github.com/mamori-sec/mamori/internal/datasets/cef"
	"github.com/mamori-sec/mamori/internal/datasets/cylance"
	"github.com/mamori-sec/mamori/internal/datasets/dhcp"
	"github.com/mamori-sec/mamori/internal/datasets/dns"
	"github.com/mamori-sec/mamori/internal/datasets/fortinet"
	"github.com/mamori-sec/mamori/internal/datasets/googleworkspace"
	"github.com/mamori-sec/mamori/internal/datasets/json"
	"github.com/mamori-sec/mamori/internal/datasets/kv"
	"github.com/mamori-sec/mamori/internal/datasets/leef"
	"github.com/mamori-sec/mamori/internal/datasets/linux"
	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/datasets/panw"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/datasets/trendmicro"
)

// Options carry what datasets need from the configuration.
type Options struct {
	// Location is the zone of timestamps that carry none, such as BSD
	// syslog timestamps (nil means UTC).
	Location *time.Location
	// Now is the clock used when a record has no receive time (nil means
	// time.Now).
	Now func() time.Time
	// Custom are datasets defined by mapping files (internal/datasets/
	// mapping). They are registered first, so their claims are asked
	// before the built-in ones: a mapping can take over a source.
	Custom []dataset.Dataset
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

	all := append([]dataset.Dataset(nil), opts.Custom...)
	all = append(all,
		syslog.New(syslog.Options{Location: opts.Location, Now: opts.Now, Body: body, Claim: claim}),
		cef.New(cef.Options{Location: opts.Location}),
		leef.New(leef.Options{Location: opts.Location}),
		kv.New(kv.Options{Location: opts.Location}),
		json.New(json.Options{Location: opts.Location, Inner: inner}),
		// Specific datasets: asked in this order to claim records that
		// arrive without a dataset named.
		trendmicro.New(trendmicro.Options{Location: opts.Location, Now: opts.Now}),
		panw.New(panw.Options{Location: opts.Location, Now: opts.Now}),
		fortinet.New(fortinet.Options{Location: opts.Location, Now: opts.Now}),
		linux.New(linux.Options{Location: opts.Location, Now: opts.Now}),
		cloudtrail.New(cloudtrail.Options{Location: opts.Location, Now: opts.Now}),
		guardduty.New(guardduty.Options{Location: opts.Location, Now: opts.Now}),
		vpcflow.New(vpcflow.Options{}),
		elb.New(elb.Options{Location: opts.Location}),
		waf.New(waf.Options{}),
		dns.New(dns.Options{Location: opts.Location, Now: opts.Now}),
		dhcp.New(dhcp.Options{Location: opts.Location, Now: opts.Now}),
		cylance.New(cylance.Options{Location: opts.Location, Now: opts.Now}),
		accesslog.NewNginx(accesslog.Options{Location: opts.Location, Now: opts.Now}),
		accesslog.NewApache(accesslog.Options{Location: opts.Location, Now: opts.Now}),
		mamoriaudit.New(),
	)
	all = append(all, googleworkspace.New(googleworkspace.Options{Location: opts.Location, Now: opts.Now})...)
	all = append(all, azure.New(azure.Options{Location: opts.Location, Now: opts.Now})...)
	reg = dataset.NewRegistry(all...)
	return reg
}

// IsBuiltin reports whether mamori ships a dataset of this name.
func IsBuiltin(name string) bool {
	_, ok := Builtin(Options{}).Lookup(name)
	return ok
}
