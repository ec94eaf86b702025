package cylance

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// parseAPI maps a Cylance v2 API record: one threat or device object, or
// a page of them ({"page_number":1,...,"page_items":[...]}), which gives
// one event per item (none for an empty page).
func parseAPI(data []byte) ([]*event.Event, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, errorf("API record: %w", err)
	}
	items, isPage := doc["page_items"]
	if !isPage {
		ev, err := apiObject(doc)
		if err != nil {
			return nil, err
		}
		return []*event.Event{ev}, nil
	}
	list, ok := items.([]any)
	if !ok && items != nil {
		return nil, errorf("API page: page_items is not a list")
	}
	evs := make([]*event.Event, 0, len(list))
	for i, it := range list {
		obj, ok := it.(map[string]any)
		if !ok {
			return nil, errorf("API page item %d is not an object", i+1)
		}
		ev, err := apiObject(obj)
		if err != nil {
			return nil, errorf("API page item %d: %w", i+1, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// apiObject maps a threat (it has a file hash and a Cylance score) or a
// device (it has an agent version or a registration date).
func apiObject(obj map[string]any) (*event.Event, error) {
	ev := event.New(32)
	ev.Set("observer.vendor", "Cylance")
	ev.Set("observer.product", "PROTECT")
	switch {
	case obj["sha256"] != nil || obj["cylance_score"] != nil:
		apiThreat(ev, obj)
	case obj["agent_version"] != nil || obj["date_first_registered"] != nil:
		apiDevice(ev, obj)
	default:
		return nil, errorf("API object is neither a threat nor a device")
	}
	return ev, nil
}

// apiThreat maps a threat list item. Its last_found is when the threat
// was last seen, the event's time.
func apiThreat(ev *event.Event, obj map[string]any) {
	const p = ns + "threat."
	ev.Set("event.kind", "alert")
	ev.Set("event.category", []string{"malware"})
	ev.Set("event.type", []string{"info"})
	ev.SetString("file.name", str(obj["name"]))
	setHash(ev, "sha256", str(obj["sha256"]), 64)
	setHash(ev, "md5", str(obj["md5"]), 32)
	if n, ok := event.FromJSONScalar(obj["file_size"]).(int64); ok && n >= 0 {
		ev.Set("file.size", n)
	}
	if t, ok := apiTime(obj["last_found"]); ok {
		ev.Set(event.FieldTimestamp, t)
		ev.Set(p+"last_found", t)
	}
	for _, k := range []string{"cylance_score", "av_industry", "classification", "sub_classification",
		"global_quarantined", "safelisted", "unique_to_cylance"} {
		if v, ok := obj[k]; ok && v != nil {
			ev.Set(p+k, event.FromJSONScalar(v))
		}
	}
}

// apiDevice maps a device list item: the state of one protected host.
func apiDevice(ev *event.Event, obj map[string]any) {
	const p = ns + "device."
	ev.Set("event.kind", "state")
	ev.Set("event.category", []string{"host"})
	ev.Set("event.type", []string{"info"})
	ev.SetString("host.id", str(obj["id"]))
	ev.SetString("host.name", str(obj["name"]))
	ev.SetString("host.hostname", str(obj["name"]))
	var ips, macs []string
	for _, v := range strList(obj["ip_addresses"]) {
		if a, err := netip.ParseAddr(v); err == nil {
			ips = append(ips, a.Unmap().String())
		}
	}
	for _, v := range strList(obj["mac_addresses"]) {
		if m := normalizeMAC(v); m != "" {
			macs = append(macs, m)
		}
	}
	ev.Set("host.ip", ips)
	ev.Set("host.mac", macs)
	ev.SetString(p+"state", str(obj["state"]))
	ev.SetString(p+"agent_version", str(obj["agent_version"]))
	if pol, ok := obj["policy"].(map[string]any); ok {
		ev.SetString(p+"policy.id", str(pol["id"]))
		ev.SetString(p+"policy.name", str(pol["name"]))
	}
	if t, ok := apiTime(obj["date_first_registered"]); ok {
		ev.Set(p+"date_first_registered", t)
	}
}

// apiTime reads the API's times: "2017-07-27T21:44:05" (UTC, written
// without a zone), with optional fraction or zone.
func apiTime(v any) (time.Time, bool) {
	s := str(v)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, time.UTC)
	return t, err == nil
}

// str returns a JSON string value, or "" for anything else.
func str(v any) string {
	s, _ := v.(string)
	return strings.TrimSpace(s)
}

func strList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, el := range list {
		if s := str(el); s != "" {
			out = append(out, s)
		}
	}
	return out
}
