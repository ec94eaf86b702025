package azure

import (
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

const auditNS = "azure.auditlogs"

// audit maps a directory audit: env is the diagnostic record (missing for
// a Graph resource), props its properties or the Graph directoryAudit
// resource, which have the same keys.
func audit(env, props jsontree.Value) *event.Event {
	ev := event.New(48 + 2*props.Len())
	ev.Set(event.FieldDataset, AuditLogsName)
	ev.Set(event.FieldKind, "event")
	ev.Set("cloud.provider", "azure")
	setEnvelope(ev, env, auditNS)
	ev.SetIfAbsent("event.action", props.Get("activityDisplayName").Text())
	if t, ok := parseTime(props.Get("activityDateTime").Text()); ok {
		ev.SetIfAbsent(event.FieldTimestamp, t)
	}
	ev.Set("event.category", auditCategory(props.Get("category").Text()))
	ev.Set("event.type", auditTypes(props.Get("category").Text(), props.Get("operationType").Text()))
	outcome := resultOutcome(props.Get("result").Text())
	if outcome == "" {
		outcome = resultOutcome(env.Get("resultType").Text())
	}
	ev.SetString("event.outcome", outcome)
	ev.SetString(event.FieldMessage, props.Get("resultReason").Text())
	ev.SetIfAbsent("azure.correlation_id", props.Get("correlationId").Text())

	if u := props.Path("initiatedBy", "user"); u.Kind() == jsontree.Object {
		setUser(ev, "user", u.Get("userPrincipalName").Text(), u.Get("displayName").Text(), u.Get("id").Text())
		if ip, ok := parseIP(u.Get("ipAddress").Text()); ok {
			ev.SetString("source.ip", ip)
		}
	}
	setTargets(ev, props.Get("targetResources"))
	for d := range props.Get("additionalDetails").Elements() {
		if strings.EqualFold(d.Get("key").Text(), "User-Agent") {
			ev.SetString("user_agent.original", d.Get("value").Text())
		}
	}

	setProperties(ev, props, auditNS+".properties.")
	return ev
}

// auditCategory maps the audit's category (the directory area it
// changed): identities and their access are iam, directory-wide settings
// and devices are configuration.
func auditCategory(category string) []string {
	switch category {
	case "Policy", "DirectoryManagement", "Device", "DeviceManagement", "DeviceTemplates":
		return []string{"configuration"}
	}
	return []string{"iam"}
}

// auditTypes maps the operation type, and says when a user or group was
// what changed.
func auditTypes(category, operationType string) []string {
	var types []string
	switch strings.ToLower(operationType) {
	case "add":
		types = append(types, "creation")
	case "delete":
		types = append(types, "deletion")
	case "update", "assign", "unassign":
		types = append(types, "change")
	default:
		types = append(types, "info")
	}
	switch category {
	case "UserManagement":
		types = append(types, "user")
	case "GroupManagement":
		types = append(types, "group")
	case "RoleManagement":
		types = append(types, "admin")
	}
	return types
}

// setTargets maps the first user and the first group the audit names as
// changed to user.target.* and group.*.
func setTargets(ev *event.Event, targets jsontree.Value) {
	var user, group bool
	for t := range targets.Elements() {
		switch t.Get("type").Text() {
		case "User":
			if !user {
				user = true
				setUser(ev, "user.target", t.Get("userPrincipalName").Text(), t.Get("displayName").Text(), t.Get("id").Text())
			}
		case "Group":
			if !group {
				group = true
				ev.SetString("group.id", t.Get("id").Text())
				ev.SetString("group.name", t.Get("displayName").Text())
			}
		}
	}
}

// other maps a diagnostic record of a category that has no dataset here
// (ProvisioningLogs, RiskyUsers, ...), so that a batch loses nothing: the
// record's envelope as for the others, its properties under
// azure.<category>.
func other(r jsontree.Value, own kind) *event.Event {
	ns := "azure." + jsontree.SnakeCase(r.Get("category").Text())
	if r.Get("category").Text() == "" {
		ns = own.dataset()
	}
	ev := event.New(32 + 2*r.Get("properties").Len())
	ev.SetString(event.FieldDataset, own.dataset())
	ev.Set(event.FieldKind, "event")
	ev.Set("cloud.provider", "azure")
	setEnvelope(ev, r, ns)
	ev.SetString("event.outcome", resultOutcome(r.Get("resultType").Text()))
	setProperties(ev, r.Get("properties"), ns+".properties.")
	return ev
}
