package geoip

// The records as GeoIP2/GeoLite2 lay them out; only what is mapped is
// decoded (the decoder skips the rest).

type names struct {
	EN string `maxminddb:"en"`
}

type cityRecord struct {
	Continent struct {
		Code  string `maxminddb:"code"`
		Names names  `maxminddb:"names"`
	} `maxminddb:"continent"`
	Country struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   names  `maxminddb:"names"`
	} `maxminddb:"country"`
	Subdivisions []struct {
		ISOCode string `maxminddb:"iso_code"`
		Names   names  `maxminddb:"names"`
	} `maxminddb:"subdivisions"`
	City struct {
		Names names `maxminddb:"names"`
	} `maxminddb:"city"`
	Postal struct {
		Code string `maxminddb:"code"`
	} `maxminddb:"postal"`
	Location struct {
		// Pointers: 0 is a latitude, absent is not.
		Latitude  *float64 `maxminddb:"latitude"`
		Longitude *float64 `maxminddb:"longitude"`
		TimeZone  string   `maxminddb:"time_zone"`
	} `maxminddb:"location"`
}

type asnRecord struct {
	Number       uint32 `maxminddb:"autonomous_system_number"`
	Organization string `maxminddb:"autonomous_system_organization"`
}

// The geo fields of one side, in the order of geoSuffixes.
const (
	geoContinentCode = iota
	geoContinentName
	geoCountryISO
	geoCountryName
	geoRegionISO
	geoRegionName
	geoCityName
	geoPostalCode
	geoTimezone
	geoLat
	geoLon
	nGeo
)

// geoSuffixes are the ECS names, under <side>.geo., of the geo fields.
func geoSuffixes() [nGeo]string {
	return [nGeo]string{
		geoContinentCode: "continent_code",
		geoContinentName: "continent_name",
		geoCountryISO:    "country_iso_code",
		geoCountryName:   "country_name",
		geoRegionISO:     "region_iso_code",
		geoRegionName:    "region_name",
		geoCityName:      "city_name",
		geoPostalCode:    "postal_code",
		geoTimezone:      "timezone",
		geoLat:           "location.lat",
		geoLon:           "location.lon",
	}
}

// geoInfo is a decoded City record, ready to set: nil values are absent.
type geoInfo struct {
	vals [nGeo]any
}

func (r *cityRecord) info() *geoInfo {
	var g geoInfo
	str := func(i int, s string) {
		if s != "" {
			g.vals[i] = s
		}
	}
	str(geoContinentCode, r.Continent.Code)
	str(geoContinentName, r.Continent.Names.EN)
	str(geoCountryISO, r.Country.ISOCode)
	str(geoCountryName, r.Country.Names.EN)
	if len(r.Subdivisions) > 0 {
		// The first subdivision is the largest (a state, not a county).
		// ECS region_iso_code is the ISO 3166-2 code, country included:
		// "US-CA", as Elastic's geoip processor writes it.
		sub := r.Subdivisions[0]
		if sub.ISOCode != "" && r.Country.ISOCode != "" {
			str(geoRegionISO, r.Country.ISOCode+"-"+sub.ISOCode)
		}
		str(geoRegionName, sub.Names.EN)
	}
	str(geoCityName, r.City.Names.EN)
	str(geoPostalCode, r.Postal.Code)
	str(geoTimezone, r.Location.TimeZone)
	if r.Location.Latitude != nil && r.Location.Longitude != nil {
		g.vals[geoLat] = *r.Location.Latitude
		g.vals[geoLon] = *r.Location.Longitude
	}
	return &g
}

// asInfo is a decoded ASN record: number 0 is absent.
type asInfo struct {
	number int64
	org    string
}
