package guardduty

import (
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// flattenFinding keeps every field of a finding under aws.guardduty.*,
// its camelCase (or the CLI's PascalCase) names in snake_case
// ("service.eventFirstSeen" is aws.guardduty.service.event_first_seen). A
// leaf reached through arrays becomes a list of every value at that path,
// as Elasticsearch indexes an array of objects, so each is queryable by
// field: resource.instanceDetails.networkInterfaces[].privateIpAddress is
// aws.guardduty.resource.instance_details.network_interfaces.private_ip_address.
func flattenFinding(ev *event.Event, f jsontree.Value) {
	var lists map[string][]any
	for k, v := range f.Members() {
		name := jsontree.SnakeCase(k)
		switch name {
		case "severity", "created_at", "updated_at":
			continue // mapped as severity.code/value and as times
		}
		walk(ev, &lists, "aws.guardduty."+name, v, false)
	}
	for field, vals := range lists {
		ev.Set(field, listValue(vals))
	}
}

func walk(ev *event.Event, lists *map[string][]any, path string, v jsontree.Value, inList bool) {
	switch v.Kind() {
	case jsontree.Object:
		for k, el := range v.Members() {
			walk(ev, lists, path+"."+jsontree.SnakeCase(k), el, inList)
		}
	case jsontree.Array:
		for el := range v.Elements() {
			walk(ev, lists, path, el, true)
		}
	case jsontree.String, jsontree.Number, jsontree.Bool:
		s := v.Any(nil)
		if s == nil || s == "" {
			return
		}
		if !inList {
			ev.Set(path, s)
			return
		}
		if *lists == nil {
			*lists = map[string][]any{}
		}
		(*lists)[path] = append((*lists)[path], s)
	}
}

// listValue is []string when every value is text, else []any of scalars.
func listValue(vals []any) any {
	strs := make([]string, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			return vals
		}
		strs = append(strs, s)
	}
	return strs
}
