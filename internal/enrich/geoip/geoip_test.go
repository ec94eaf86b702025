package geoip_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/maxmind/mmdbwriter"
	"github.com/maxmind/mmdbwriter/mmdbtype"

	"github.com/mamori-sec/mamori/internal/enrich"
	"github.com/mamori-sec/mamori/internal/enrich/geoip"
	"github.com/mamori-sec/mamori/internal/event"
)

// The test databases are made here, laid out as GeoIP2/GeoLite2 City and
// ASN records are, over documentation ranges with invented places and
// documentation AS numbers (RFC 5398).

func en(s string) mmdbtype.Map { return mmdbtype.Map{"en": mmdbtype.String(s)} }

func place(continent, continentName, country, countryName string) mmdbtype.Map {
	return mmdbtype.Map{
		"continent": mmdbtype.Map{"code": mmdbtype.String(continent), "names": en(continentName)},
		"country":   mmdbtype.Map{"iso_code": mmdbtype.String(country), "names": en(countryName)},
	}
}

func cityRecords() map[string]mmdbtype.Map {
	sf := place("NA", "North America", "US", "United States")
	sf["subdivisions"] = mmdbtype.Slice{
		mmdbtype.Map{"iso_code": mmdbtype.String("CA"), "names": en("California")},
		mmdbtype.Map{"iso_code": mmdbtype.String("SF"), "names": en("San Francisco County")},
	}
	sf["city"] = mmdbtype.Map{"names": en("San Francisco")}
	sf["postal"] = mmdbtype.Map{"code": mmdbtype.String("94107")}
	sf["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(37.7697), "longitude": mmdbtype.Float64(-122.3933),
		"time_zone": mmdbtype.String("America/Los_Angeles"), "accuracy_radius": mmdbtype.Uint16(10)}
	sf["registered_country"] = mmdbtype.Map{"iso_code": mmdbtype.String("US")}

	berlin := place("EU", "Europe", "DE", "Germany")
	berlin["subdivisions"] = mmdbtype.Slice{mmdbtype.Map{"iso_code": mmdbtype.String("BE"), "names": en("Land Berlin")}}
	berlin["city"] = mmdbtype.Map{"names": en("Berlin")}
	berlin["location"] = mmdbtype.Map{"latitude": mmdbtype.Float64(52.52), "longitude": mmdbtype.Float64(13.405),
		"time_zone": mmdbtype.String("Europe/Berlin")}

	return map[string]mmdbtype.Map{
		"198.51.100.0/24": sf,
		"2001:db8:1::/48": berlin,
		"203.0.113.0/24":  place("OC", "Oceania", "AU", "Australia"), // country level only
		"10.0.0.0/8":      place("AS", "Asia", "JP", "Japan"),        // never asked: private
		"100.64.0.0/10":   place("AS", "Asia", "JP", "Japan"),        // never asked: CGNAT
	}
}

func asnRecords() map[string]mmdbtype.Map {
	return map[string]mmdbtype.Map{
		"198.51.100.0/24": {"autonomous_system_number": mmdbtype.Uint32(64496), "autonomous_system_organization": mmdbtype.String("Example Transit")},
		"2001:db8:1::/48": {"autonomous_system_number": mmdbtype.Uint32(64497), "autonomous_system_organization": mmdbtype.String("Example IPv6 Net")},
		"203.0.113.0/24":  {"autonomous_system_number": mmdbtype.Uint32(64498)},
	}
}

// writeDB writes a database to path through a temporary file renamed over
// it, as geoipupdate does.
func writeDB(t testing.TB, path, dbType string, records map[string]mmdbtype.Map) {
	t.Helper()
	tree, err := mmdbwriter.New(mmdbwriter.Options{DatabaseType: dbType, IncludeReservedNetworks: true,
		Languages: []string{"en"}, Description: map[string]string{"en": "mamori test " + dbType}})
	if err != nil {
		t.Fatal(err)
	}
	for cidr, rec := range records {
		_, network, err := net.ParseCIDR(cidr)
		if err != nil {
			t.Fatal(err)
		}
		if err := tree.Insert(network, rec); err != nil {
			t.Fatalf("insert %s: %v", cidr, err)
		}
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.WriteTo(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// databases writes a City and an ASN database into a temporary directory.
func databases(t testing.TB) (city, asn string) {
	dir := t.TempDir()
	city, asn = filepath.Join(dir, "GeoLite2-City.mmdb"), filepath.Join(dir, "GeoLite2-ASN.mmdb")
	writeDB(t, city, "GeoLite2-City", cityRecords())
	writeDB(t, asn, "GeoLite2-ASN", asnRecords())
	return city, asn
}

func newDB(t testing.TB, opts geoip.Options) *geoip.DB {
	t.Helper()
	opts.Logger = quiet()
	g, err := geoip.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func ev(fields map[string]any) *event.Event {
	e := event.New(16)
	for k, v := range fields {
		e.Set(k, v)
	}
	return e
}

func enrichOne(g *geoip.DB, e *event.Event) *event.Event {
	g.Enrich(context.Background(), []*event.Event{e})
	return e
}

func check(t *testing.T, e *event.Event, want map[string]any) {
	t.Helper()
	for f, w := range want {
		got, ok := e.Get(f)
		if w == nil {
			if ok {
				t.Errorf("%s = %#v, want it absent", f, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}

func TestIPv4CityAndASN(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	e := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7", "destination.ip": "10.0.0.5"}))
	check(t, e, map[string]any{
		"source.geo.continent_code":        "NA",
		"source.geo.continent_name":        "North America",
		"source.geo.country_iso_code":      "US",
		"source.geo.country_name":          "United States",
		"source.geo.region_iso_code":       "US-CA",
		"source.geo.region_name":           "California",
		"source.geo.city_name":             "San Francisco",
		"source.geo.postal_code":           "94107",
		"source.geo.timezone":              "America/Los_Angeles",
		"source.geo.location.lat":          37.7697,
		"source.geo.location.lon":          -122.3933,
		"source.as.number":                 int64(64496),
		"source.as.organization.name":      "Example Transit",
		"destination.geo.country_iso_code": nil,
	})
	if got := e.Strings(enrich.FieldEnriched); len(got) != 13 || got[0] != "source.geo.continent_code" {
		t.Errorf("%s = %v, want the 13 fields added", enrich.FieldEnriched, got)
	}
	// Nested as ECS has it: geo.location is a geo_point object.
	js, _ := e.MarshalJSON()
	if !strings.Contains(string(js), `"location":{"lat":37.7697,"lon":-122.3933}`) {
		t.Errorf("geo.location not an object in %s", js)
	}
}

func TestIPv6AndMappedIPv4(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	e := enrichOne(g, ev(map[string]any{"client.ip": "2001:db8:1:2::10", "server.ip": "::ffff:198.51.100.9"}))
	check(t, e, map[string]any{
		"client.geo.country_iso_code": "DE",
		"client.geo.region_iso_code":  "DE-BE",
		"client.geo.city_name":        "Berlin",
		"client.geo.location.lat":     52.52,
		"client.as.number":            int64(64497),
		"client.as.organization.name": "Example IPv6 Net",
		"server.geo.city_name":        "San Francisco",
		"server.as.number":            int64(64496),
	})
}

func TestCountryLevelRecordAndMissingParts(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	e := enrichOne(g, ev(map[string]any{"source.ip": "203.0.113.50", "destination.ip": "192.0.2.1"}))
	check(t, e, map[string]any{
		"source.geo.country_iso_code": "AU",
		"source.geo.continent_name":   "Oceania",
		"source.geo.city_name":        nil,
		"source.geo.region_iso_code":  nil,
		"source.geo.location.lat":     nil, // no location in the record: not 0,0
		"source.as.number":            int64(64498),
		"source.as.organization.name": nil,
		// 192.0.2.1 is in neither database.
		"destination.geo.country_iso_code": nil,
		"destination.as.number":            nil,
	})
}

func TestOneDatabaseAlone(t *testing.T) {
	city, asn := databases(t)
	onlyASN := enrichOne(newDB(t, geoip.Options{ASN: asn}), ev(map[string]any{"source.ip": "198.51.100.7"}))
	check(t, onlyASN, map[string]any{"source.as.number": int64(64496), "source.geo.country_iso_code": nil})
	onlyCity := enrichOne(newDB(t, geoip.Options{City: city}), ev(map[string]any{"source.ip": "198.51.100.7"}))
	check(t, onlyCity, map[string]any{"source.as.number": nil, "source.geo.country_iso_code": "US"})
}

func TestPrivateAndSpecialAddressesAreSkipped(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	for _, ip := range []string{"10.1.2.3", "100.64.1.1", "127.0.0.1", "169.254.1.1", "fe80::1", "fd00::1",
		"::1", "0.0.0.0", "224.0.0.1", "255.255.255.255", "not an address"} {
		e := enrichOne(g, ev(map[string]any{"source.ip": ip}))
		if e.Has("source.geo.country_iso_code") || e.Has(enrich.FieldEnriched) {
			t.Errorf("%s was looked up: %v", ip, e.Keys())
		}
	}
	if s := g.Stats(); s.Lookups != 0 {
		t.Errorf("%d lookups for addresses that are skipped", s.Lookups)
	}
}

func TestConfiguredSkipNetworks(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn, Skip: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/25")}})
	in := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7"}))
	out := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.200"}))
	if in.Has("source.geo.country_iso_code") || in.Has("source.as.number") {
		t.Error("an address in a skipped network was enriched")
	}
	if !out.Has("source.geo.country_iso_code") {
		t.Error("an address outside the skipped network was not enriched")
	}
}

func TestNeverOverwrites(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	// The log located the source itself (a firewall's country field): no
	// database value is mixed in. Its AS is still added.
	e := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7", "source.geo.country_iso_code": "DE",
		"destination.ip": "2001:db8:1::1", "destination.as.number": int64(65000)}))
	check(t, e, map[string]any{
		"source.geo.country_iso_code":      "DE",
		"source.geo.city_name":             nil,
		"source.as.number":                 int64(64496),
		"destination.as.number":            int64(65000),
		"destination.as.organization.name": nil,
		"destination.geo.city_name":        "Berlin",
	})
}

func TestStatsAndNil(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	g.Enrich(context.Background(), []*event.Event{
		ev(map[string]any{"source.ip": "198.51.100.7", "destination.ip": "192.0.2.1"}), nil,
	})
	if s := g.Stats(); s.Lookups != 4 || s.Found != 2 || s.Errors != 0 {
		t.Errorf("Stats = %+v, want 4 lookups, 2 found", s)
	}
	var none *geoip.DB
	none.Enrich(context.Background(), []*event.Event{ev(map[string]any{"source.ip": "198.51.100.7"})})
	if err := none.Reload(); err != nil {
		t.Error(err)
	}
}

func TestOpenErrors(t *testing.T) {
	city, asn := databases(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "GeoLite2-City.mmdb")
	for _, c := range []struct {
		name string
		opts geoip.Options
		want []string
	}{
		{"nothing configured", geoip.Options{}, []string{"no database configured"}},
		{"missing file", geoip.Options{City: missing, ASN: asn}, []string{"city database", missing, "no such file"}},
		{"not a database", geoip.Options{ASN: garbage}, []string{"asn database", garbage, "not a MaxMind DB"}},
		{"ASN given as city", geoip.Options{City: asn}, []string{"GeoLite2-ASN", "give it as the ASN database"}},
		{"city given as ASN", geoip.Options{ASN: city}, []string{"GeoLite2-City", "give it as the city database"}},
		{"bad skip network", geoip.Options{City: city, Skip: []netip.Prefix{{}}}, []string{"skip"}},
	} {
		_, err := geoip.New(c.opts)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

func TestVerifiedOpen(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn, Verify: true})
	if e := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7"})); !e.Has("source.as.number") {
		t.Error("verified databases do not enrich")
	}
}

func TestReloadPicksUpAReplacedFile(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	if changed, err := g.ReloadIfChanged(); changed || err != nil {
		t.Fatalf("ReloadIfChanged on unchanged files = %v, %v", changed, err)
	}
	recs := cityRecords()
	recs["198.51.100.0/24"] = place("EU", "Europe", "FR", "France")
	writeDB(t, city, "GeoLite2-City", recs) // renamed over the old file
	changed, err := g.ReloadIfChanged()
	if !changed || err != nil {
		t.Fatalf("ReloadIfChanged after replacing the city database = %v, %v", changed, err)
	}
	e := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7"}))
	check(t, e, map[string]any{"source.geo.country_iso_code": "FR", "source.geo.city_name": nil, "source.as.number": int64(64496)})
	if s := g.Stats(); s.Reloads != 1 {
		t.Errorf("Reloads = %d, want 1 (the ASN file did not change)", s.Reloads)
	}

	// Rewritten in place (same inode), with a later mtime.
	asns := asnRecords()
	asns["198.51.100.0/24"]["autonomous_system_organization"] = mmdbtype.String("Renamed Transit")
	rewriteInPlace(t, asn, "GeoLite2-ASN", asns)
	if changed, err := g.ReloadIfChanged(); !changed || err != nil {
		t.Fatalf("ReloadIfChanged after rewriting the ASN database = %v, %v", changed, err)
	}
	e = enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7"}))
	check(t, e, map[string]any{"source.as.organization.name": "Renamed Transit"})
}

func rewriteInPlace(t *testing.T, path, dbType string, records map[string]mmdbtype.Map) {
	t.Helper()
	other := filepath.Join(t.TempDir(), "new.mmdb")
	writeDB(t, other, dbType, records)
	data, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func TestFailedReloadKeepsTheOldDatabase(t *testing.T) {
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	if err := os.WriteFile(city, []byte("half a download"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := g.Reload(); err == nil || !strings.Contains(err.Error(), city) {
		t.Errorf("Reload of a broken file = %v, want an error naming it", err)
	}
	if err := os.Remove(city); err != nil {
		t.Fatal(err)
	}
	if _, err := g.ReloadIfChanged(); err == nil {
		t.Error("ReloadIfChanged with the file gone: no error")
	}
	e := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7"}))
	check(t, e, map[string]any{"source.geo.country_iso_code": "US", "source.as.number": int64(64496)})
}

func TestEnrichDuringReloads(t *testing.T) {
	// Run with -race: lookups and reloads share nothing mutable.
	city, asn := databases(t)
	g := newDB(t, geoip.Options{City: city, ASN: asn})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				e := enrichOne(g, ev(map[string]any{"source.ip": "198.51.100.7"}))
				if !e.Has("source.geo.country_iso_code") {
					t.Error("lookup during a reload found nothing")
					return
				}
			}
		})
	}
	for range 5 {
		if err := g.Reload(); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func TestWatchStopsWithItsContext(t *testing.T) {
	city, _ := databases(t)
	g := newDB(t, geoip.Options{City: city})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		g.Watch(ctx, time.Millisecond)
		close(done)
	}()
	cancel()
	<-done
}

func BenchmarkEnrich(b *testing.B) {
	city, asn := databases(b)
	g := newDB(b, geoip.Options{City: city, ASN: asn})
	srcs := []string{"198.51.100.7", "2001:db8:1::9", "203.0.113.5", "192.0.2.1"}
	batch := func() []*event.Event {
		evs := make([]*event.Event, 1000)
		for i := range evs {
			evs[i] = ev(map[string]any{"@timestamp": time.Unix(int64(i), 0), "source.ip": srcs[i%len(srcs)],
				"destination.ip": "10.0.0.5", "event.dataset": "fortinet.fortigate"})
		}
		return evs
	}
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		evs := batch()
		b.StartTimer()
		g.Enrich(context.Background(), evs)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/event")
}

// FuzzOpen hands New any file: it must refuse it with an error, or give a
// DB whose lookups neither panic nor add anything but geo and AS fields.
func FuzzOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "db.mmdb")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, opts := range []geoip.Options{{City: path}, {ASN: path}} {
			opts.Logger = quiet()
			g, err := geoip.New(opts)
			if err != nil {
				if g != nil {
					t.Fatal("New returned a DB with its error")
				}
				continue
			}
			e := ev(map[string]any{"source.ip": "198.51.100.7", "destination.ip": "2001:db8:1::1", "client.ip": "203.0.113.9"})
			g.Enrich(context.Background(), []*event.Event{e})
			for _, k := range e.Keys() {
				if !strings.HasSuffix(k, ".ip") && !strings.Contains(k, ".geo.") && !strings.Contains(k, ".as.") && k != enrich.FieldEnriched {
					t.Fatalf("unexpected field %s", k)
				}
			}
		}
	})
}
