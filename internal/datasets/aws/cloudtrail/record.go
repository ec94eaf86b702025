package cloudtrail

import (
	"net/netip"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

// record is one CloudTrail event as documented in the CloudTrail record
// contents reference. The free-form parts (requestParameters, ...) are
// kept as their JSON text: stored as it is and flattened into fields.
type record struct {
	EventVersion        string
	UserIdentity        *userIdentity
	EventTime           string
	EventSource         string
	EventName           string
	AWSRegion           string
	SourceIPAddress     string
	UserAgent           string
	ErrorCode           string
	ErrorMessage        string
	RequestParameters   string
	ResponseElements    string
	AdditionalEventData string
	ServiceEventDetails string
	InsightDetails      string
	RequestID           string
	EventID             string
	EventType           string
	APIVersion          string
	ManagementEvent     optBool
	ReadOnly            optBool
	Resources           []resource
	RecipientAccountID  string
	SharedEventID       string
	VPCEndpointID       string
	EventCategory       string
	TLSDetails          *tlsDetails
	ConsoleCredential   optBool // sessionCredentialFromConsole
}

type resource struct {
	ARN, AccountID, Type string
}

type tlsDetails struct {
	TLSVersion, CipherSuite, ClientProvidedHostHeader string
}

// isRecord reports whether the object has what every CloudTrail event
// has: an API call's name and source, or an Insights event's details.
func (r *record) isRecord() bool {
	if r.EventName != "" && (r.EventSource != "" || r.EventVersion != "") {
		return true
	}
	return r.EventVersion != "" && r.EventType == eventTypeInsight
}

// eventTypeInsight is the eventType of a CloudTrail Insights event: an
// unusual rate of some API call, detected by CloudTrail itself.
const eventTypeInsight = "AwsCloudTrailInsight"

// flattenLimit bounds the free-form parts that are also flattened into
// fields: a larger part (a RunInstances response runs to tens of KiB) is
// kept as JSON text only, so that one call cannot add thousands of fields.
const flattenLimit = 16 << 10

// Prefixes of the flattened free-form parts, which the mapping reads back.
const (
	flatRequest    = "aws.cloudtrail.flattened.request_parameters."
	flatResponse   = "aws.cloudtrail.flattened.response_elements."
	flatAdditional = "aws.cloudtrail.flattened.additional_eventdata."
)

func (r *record) event() *event.Event {
	// Room for the mapped fields and, roughly, the flattened leaves (one
	// per ~24 bytes of JSON), so that the map need not grow as it fills.
	parts := len(r.RequestParameters) + len(r.ResponseElements) + len(r.AdditionalEventData) +
		len(r.ServiceEventDetails) + len(r.InsightDetails)
	ev := event.New(48 + min(parts, flattenLimit)/24)
	if t, ok := parseTime(r.EventTime); ok {
		ev.Set(event.FieldTimestamp, t)
	}
	// An Insights event is CloudTrail's own detection of an anomaly.
	if r.EventType == eventTypeInsight {
		ev.Set(event.FieldKind, "alert")
	} else {
		ev.Set(event.FieldKind, "event")
	}
	ev.SetString("event.action", r.EventName)
	ev.SetString("event.provider", r.EventSource)
	ev.Set("cloud.provider", "aws")
	ev.SetString("cloud.region", r.AWSRegion)

	const ct = "aws.cloudtrail."
	ev.SetString(ct+"event_version", r.EventVersion)
	ev.SetString(ct+"event_id", r.EventID)
	ev.SetString(ct+"event_type", r.EventType)
	ev.SetString(ct+"event_category", r.EventCategory)
	ev.SetString(ct+"api_version", r.APIVersion)
	ev.SetString(ct+"request_id", r.RequestID)
	ev.SetString(ct+"shared_event_id", r.SharedEventID)
	ev.SetString(ct+"vpc_endpoint_id", r.VPCEndpointID)
	ev.SetString(ct+"recipient_account_id", r.RecipientAccountID)
	r.ManagementEvent.set(ev, ct+"management_event")
	r.ReadOnly.set(ev, ct+"read_only")
	r.ConsoleCredential.set(ev, ct+"session_credential_from_console")
	ev.SetString(ct+"error_code", r.ErrorCode)
	ev.SetString(ct+"error_message", r.ErrorMessage)
	ev.SetString("error.code", r.ErrorCode)
	ev.SetString("error.message", r.ErrorMessage)

	keepPart(ev, "request_parameters", r.RequestParameters)
	keepPart(ev, "response_elements", r.ResponseElements)
	keepPart(ev, "additional_eventdata", r.AdditionalEventData)
	keepPart(ev, "service_event_details", r.ServiceEventDetails)
	keepPart(ev, "insight_details", r.InsightDetails)

	r.setSource(ev)
	ev.SetString("user_agent.original", r.UserAgent)
	r.setTLS(ev)
	r.setResources(ev)
	if r.UserIdentity != nil {
		r.UserIdentity.set(ev)
	}
	// The account the event happened in; the caller's own account (which
	// differs for cross-account calls) is the fallback for old records.
	if r.RecipientAccountID != "" {
		ev.SetString("cloud.account.id", r.RecipientAccountID)
	} else if r.UserIdentity != nil {
		ev.SetString("cloud.account.id", r.UserIdentity.AccountID)
	}
	setTargets(ev)
	if r.EventName == "ConsoleLogin" {
		setConsoleLogin(ev)
	}
	relatedEntities(ev, r)
	categorize(ev, r)
	return ev
}

// setSource maps sourceIPAddress: an address is source.ip, a service
// ("ec2.amazonaws.com") is source.domain; both stay in source.address.
func (r *record) setSource(ev *event.Event) {
	s := r.SourceIPAddress
	if s == "" {
		return
	}
	ev.SetString("source.address", s)
	if a, err := netip.ParseAddr(s); err == nil {
		ev.SetString("source.ip", a.Unmap().String())
		return
	}
	if isDomain(s) {
		ev.SetString("source.domain", s)
	}
}

// isDomain accepts a dotted host name; CloudTrail also writes "AWS
// Internal" here, which names no host.
func isDomain(s string) bool {
	if !strings.Contains(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// setTLS maps tlsDetails: "TLSv1.2" is protocol "tls", version "1.2".
func (r *record) setTLS(ev *event.Event) {
	t := r.TLSDetails
	if t == nil {
		return
	}
	if proto, ver, ok := strings.Cut(t.TLSVersion, "v"); ok {
		ev.SetString("tls.version_protocol", strings.ToLower(proto))
		ev.SetString("tls.version", ver)
	}
	ev.SetString("tls.cipher", t.CipherSuite)
	ev.SetString("tls.client.server_name", t.ClientProvidedHostHeader)
}

// setResources keeps the resources list as one list per attribute, so
// that each is queryable (aws.cloudtrail.resources.arn:...).
func (r *record) setResources(ev *event.Event) {
	for _, res := range r.Resources {
		ev.Append("aws.cloudtrail.resources.arn", res.ARN)
		ev.Append("aws.cloudtrail.resources.account_id", res.AccountID)
		ev.Append("aws.cloudtrail.resources.type", res.Type)
	}
}

// keepPart stores a free-form part as its JSON text under
// aws.cloudtrail.<name> and, when it is an object of reasonable size, its
// leaves under aws.cloudtrail.flattened.<name>.*.
func keepPart(ev *event.Event, name, raw string) {
	if raw == "" || raw == "null" {
		return
	}
	ev.SetString("aws.cloudtrail."+name, raw)
	if raw[0] != '{' || len(raw) > flattenLimit {
		return
	}
	flatten(ev, "aws.cloudtrail.flattened."+name, raw)
}

// setTargets maps the users and groups an IAM call acts on.
func setTargets(ev *event.Event) {
	ev.SetString("user.target.name", ev.String(flatRequest+"userName"))
	ev.SetString("user.changes.name", ev.String(flatRequest+"newUserName"))
	ev.SetString("group.name", ev.String(flatRequest+"groupName"))
	ev.SetString("user.target.id", ev.String(flatResponse+"user.userId"))
	ev.SetString("group.id", ev.String(flatResponse+"group.groupId"))
}

// setConsoleLogin reads a console sign-in's additional data as booleans.
func setConsoleLogin(ev *event.Event) {
	const cl = "aws.cloudtrail.console_login.additional_eventdata."
	ev.SetString(cl+"login_to", ev.String(flatAdditional+"LoginTo"))
	if s := ev.String(flatAdditional + "MobileVersion"); s != "" {
		ev.Set(cl+"mobile_version", s != "No")
	}
	if s := ev.String(flatAdditional + "MFAUsed"); s != "" {
		ev.Set(cl+"mfa_used", s != "No")
	}
}

// optBool is a boolean that may be absent. CloudTrail writes most as JSON
// booleans and some (sessionCredentialFromConsole) as "true"/"false"; any
// other value leaves it unset rather than failing the record.
type optBool struct {
	ok, val bool
}

// is reports whether the value is present and equal to v.
func (b optBool) is(v bool) bool { return b.ok && b.val == v }

func (b optBool) set(ev *event.Event, field string) {
	if b.ok {
		ev.Set(field, b.val)
	}
}

// parseTime reads CloudTrail's times: RFC 3339 ("2014-07-16T15:49:27Z"),
// or the basic ISO 8601 form some session attributes use
// ("20131102T010628Z").
func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("20060102T150405Z0700", s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}
