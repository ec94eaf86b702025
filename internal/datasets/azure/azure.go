// Package azure holds the Microsoft Entra ID (Azure AD) datasets: sign-in
// logs and directory audit logs, mapped to ECS.
//
// Both arrive in two shapes: the diagnostic-settings export (Event Hub or
// storage account: one record, or {"records": [...]}) and Microsoft Graph
// responses (auditLogs/signIns, auditLogs/directoryAudits: a page
// {"@odata.context": ..., "value": [...]} or a single resource), as the
// API poller archives them. Every record or resource gives one event, and
// its dataset follows what it is, whichever of the two datasets parsed it.
package azure

import (
	"fmt"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	dssyslog "github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/parse/jsontree"
	parsesyslog "github.com/mamori-sec/mamori/internal/parse/syslog"
)

// Dataset names, also the event.dataset values.
const (
	SignInLogsName = "azure.signinlogs"
	AuditLogsName  = "azure.auditlogs"
)

// Options configure the datasets.
type Options struct {
	// Location is the zone of a relaying syslog header's timestamp that
	// carries none (nil means UTC). Entra ID's own times carry a zone.
	Location *time.Location
	// Now is the reference clock for such a header when a record has no
	// receive time (nil means time.Now).
	Now func() time.Time
}

// New returns the two datasets: azure.signinlogs, azure.auditlogs.
func New(opts Options) []dataset.Dataset {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return []dataset.Dataset{
		{
			Name:        SignInLogsName,
			Description: "Microsoft Entra ID sign-in logs (diagnostic settings export, Microsoft Graph auditLogs/signIns)",
			Parser:      &parser{own: kindSignIn, loc: loc, now: now},
			Claim:       func(l dataset.Line) bool { return claimKind(l.Body) == kindSignIn },
			// Diagnostic settings write each category to its own
			// storage container, insights-logs-<category>, as
			// tenantId=<id>/y=/m=/d=/h=/m=00/PT1H.json (one record a
			// line).
			Keys: []string{
				"**/insights-logs-signinlogs/**",
				"**/insights-logs-noninteractiveusersigninlogs/**",
				"**/insights-logs-serviceprincipalsigninlogs/**",
				"**/insights-logs-managedidentitysigninlogs/**",
				"**/insights-logs-adfssigninlogs/**",
			},
		},
		{
			Name:        AuditLogsName,
			Description: "Microsoft Entra ID audit logs (diagnostic settings export, Microsoft Graph auditLogs/directoryAudits)",
			Parser:      &parser{own: kindAudit, loc: loc, now: now},
			Claim:       func(l dataset.Line) bool { return claimKind(l.Body) == kindAudit },
			Keys:        []string{"**/insights-logs-auditlogs/**"},
		},
	}
}

// kind is what a record or resource is.
type kind int

const (
	kindNone kind = iota
	kindSignIn
	kindAudit
)

func (k kind) dataset() string {
	if k == kindAudit {
		return AuditLogsName
	}
	return SignInLogsName
}

type parser struct {
	own kind // the dataset asked to parse
	loc *time.Location
	now func() time.Time
}

// Parse maps a diagnostic record, a {"records": [...]} batch, a Graph page
// or a single Graph resource. A page without items carries no event.
func (p *parser) Parse(rec dataset.Record) ([]*event.Event, error) {
	data, header := p.unwrapSyslog(rec)
	root, err := jsontree.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("azure: %w", err)
	}
	if root.Kind() != jsontree.Object {
		return nil, fmt.Errorf("azure: record is not a JSON object")
	}
	var evs []*event.Event
	switch records, odata := root.Get("records"), root.Get("@odata.context").Text(); {
	case records.Kind() == jsontree.Array:
		for r := range records.Elements() {
			if r.Kind() == jsontree.Object {
				evs = append(evs, p.diagnostic(r))
			}
		}
	case odata != "" && graphKind(odata) == kindNone:
		return nil, fmt.Errorf("azure: Microsoft Graph response %q holds neither sign-ins nor directory audits", odata)
	case root.Get("value").Kind() == jsontree.Array && (odata != "" || root.Get("@odata.nextLink").Exists()):
		k := graphKind(odata)
		for r := range root.Get("value").Elements() {
			if r.Kind() == jsontree.Object {
				evs = append(evs, p.graph(r, k))
			}
		}
	case isDiagnostic(root):
		evs = append(evs, p.diagnostic(root))
	case odata != "" || resourceKind(root) != kindNone:
		// A single resource, fetched by id ($entity) or written alone.
		evs = append(evs, p.graph(root, graphKind(odata)))
	default:
		return nil, fmt.Errorf("azure: record is neither a diagnostic log record nor a Microsoft Graph sign-in or directory audit")
	}
	if header != nil {
		for _, ev := range evs {
			dssyslog.SetHeader(ev, header, p.loc, true)
		}
	}
	return evs, nil
}

// isDiagnostic reports the diagnostic-settings record shape.
func isDiagnostic(v jsontree.Value) bool {
	return v.Get("properties").Kind() == jsontree.Object &&
		(v.Get("category").Exists() || v.Get("operationName").Exists() || v.Get("time").Exists())
}

// categoryKind maps a diagnostic record's category.
func categoryKind(category string) kind {
	switch category {
	case "SignInLogs", "NonInteractiveUserSignInLogs", "ServicePrincipalSignInLogs",
		"ManagedIdentitySignInLogs", "ADFSSignInLogs":
		return kindSignIn
	case "AuditLogs":
		return kindAudit
	}
	return kindNone
}

// graphKind maps a Graph response's @odata.context.
func graphKind(odata string) kind {
	switch {
	case strings.Contains(odata, "auditLogs/signIns"):
		return kindSignIn
	case strings.Contains(odata, "auditLogs/directoryAudits"):
		return kindAudit
	}
	return kindNone
}

// resourceKind recognises a Graph resource by the keys only it has.
func resourceKind(v jsontree.Value) kind {
	switch {
	case v.Get("createdDateTime").Exists() && v.Get("status").Kind() == jsontree.Object &&
		(v.Get("userPrincipalName").Exists() || v.Get("appId").Exists()):
		return kindSignIn
	case v.Get("activityDateTime").Exists() && v.Get("activityDisplayName").Exists():
		return kindAudit
	}
	return kindNone
}

// diagnostic maps one diagnostic-settings record by its category.
func (p *parser) diagnostic(r jsontree.Value) *event.Event {
	props := r.Get("properties")
	k := categoryKind(r.Get("category").Text())
	if k == kindNone && r.Get("operationName").Text() == "Sign-in activity" {
		k = kindSignIn
	}
	switch k {
	case kindSignIn:
		return signIn(r, props)
	case kindAudit:
		return audit(r, props)
	}
	return other(r, p.own)
}

// graph maps one Graph resource; k is what the page said it holds.
func (p *parser) graph(r jsontree.Value, k kind) *event.Event {
	if k == kindNone {
		k = resourceKind(r)
	}
	if k == kindNone {
		k = p.own
	}
	if k == kindAudit {
		return audit(jsontree.Value{}, r)
	}
	return signIn(jsontree.Value{}, r)
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
