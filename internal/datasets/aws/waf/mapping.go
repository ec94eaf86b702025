package waf

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// setACL maps the web ACL: its ARN names the service, region and account
// (arn:aws:wafv2:us-east-1:123456789012:global/webacl/name/id). WAF Classic
// logs an ID instead of an ARN.
func setACL(ev *event.Event, id string) {
	if id == "" {
		return
	}
	rest, ok := strings.CutPrefix(id, "arn:")
	if !ok {
		ev.SetString("aws.waf.id", id)
		return
	}
	ev.SetString("aws.waf.arn", id)
	var parts [4]string // partition, service, region, account
	for i := range parts {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return
		}
		parts[i], rest = rest[:j], rest[j+1:]
	}
	ev.SetString("cloud.service.name", parts[1])
	ev.SetString("cloud.region", parts[2])
	ev.SetString("cloud.account.id", parts[3])
	ev.SetString("aws.waf.id", rest)
}

// setRules maps the rule that decided and the rules that matched. rule.id
// and rule.ruleset follow Elastic (the terminating rule and its type);
// rule.name is the rule that actually matched, which for a rule group is
// the group's own terminating rule.
func setRules(ev *event.Event, r *record) {
	ev.SetString("rule.id", r.TerminatingRuleID)
	ev.SetString("rule.ruleset", r.TerminatingRuleType)
	name := r.TerminatingRuleID
	if inner := groupTerminatingRule(r.RuleGroupList); inner != "" {
		name = inner
	}
	ev.SetString("rule.name", name)
	ev.Set("aws.waf.terminating_rule_match_details", pruneList(r.TerminatingRuleMatchDetails))
	ev.Set("aws.waf.rule_group_list", pruneList(r.RuleGroupList))
	ev.Set("aws.waf.rate_based_rule_list", pruneList(r.RateBasedRuleList))
	ev.Set("aws.waf.non_terminating_matching_rules", pruneList(r.NonTerminatingMatchingRules))
	ev.Set("aws.waf.labels", r.Labels)
}

// groupTerminatingRule returns the ruleId of the first rule group entry
// that terminated the request.
func groupTerminatingRule(groups []any) string {
	for _, g := range groups {
		m, ok := g.(map[string]any)
		if !ok {
			continue
		}
		if t, ok := m["terminatingRule"].(map[string]any); ok {
			if id, ok := t["ruleId"].(string); ok && id != "" {
				return id
			}
		}
	}
	return ""
}

// setRequest maps the HTTP request as WAF saw it.
func setRequest(ev *event.Event, h *request) {
	if a, err := netip.ParseAddr(h.ClientIP); err == nil {
		ev.SetString("source.ip", a.Unmap().String())
	} else {
		// Not an address: keep it rather than lose it.
		ev.SetString("source.address", h.ClientIP)
	}
	if h.Country != "-" {
		ev.SetString("source.geo.country_iso_code", h.Country)
	}
	if h.RequestID != "-" {
		ev.SetString("http.request.id", h.RequestID)
	}
	ev.SetString("http.request.method", h.HTTPMethod)
	if proto, version, ok := strings.Cut(h.HTTPVersion, "/"); ok {
		proto = strings.ToLower(proto)
		ev.SetString("network.protocol", proto)
		ev.SetString("http.version", version)
		if proto == "http" {
			transport := "tcp"
			if strings.HasPrefix(version, "3") {
				transport = "udp" // HTTP/3 runs over QUIC
			}
			ev.SetString("network.transport", transport)
		}
	}
	ev.SetString("url.path", h.URI)
	ev.SetString("url.query", h.Args)
	ev.SetString("url.fragment", h.Fragment)
	ev.SetString("url.scheme", strings.ToLower(h.Scheme))
	if h.URI != "" {
		original := h.URI
		if h.Args != "" {
			original += "?" + h.Args
		}
		ev.SetString("url.original", original)
	}
	host := h.Host
	for _, hd := range h.Headers {
		if hd.Name == "" {
			continue
		}
		setHeader(ev, "aws.waf.request.headers.", hd)
		switch {
		case strings.EqualFold(hd.Name, "User-Agent"):
			ev.SetIfAbsent("user_agent.original", hd.Value)
		case strings.EqualFold(hd.Name, "Host") && host == "":
			host = hd.Value
		}
	}
	setHost(ev, host)
}

// setHeader keeps a header under prefix+name as Elastic does. A '.' in a
// name would nest it, so it becomes '_'; a repeated header keeps every
// value, as a list.
func setHeader(ev *event.Event, prefix string, h header) {
	field := prefix + strings.ReplaceAll(h.Name, ".", "_")
	if prev := ev.Strings(field); len(prev) > 0 {
		ev.Set(field, append(append([]string(nil), prev...), h.Value))
		return
	}
	ev.SetString(field, h.Value)
}

// setHost maps the Host header ("example.com:8443") to url.domain and
// url.port.
func setHost(ev *event.Event, host string) {
	if host == "" {
		return
	}
	name, port := host, ""
	if strings.HasPrefix(host, "[") {
		if end := strings.IndexByte(host, ']'); end > 0 {
			name, port = host[1:end], strings.TrimPrefix(host[end+1:], ":")
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 && strings.Count(host, ":") == 1 {
		name, port = host[:i], host[i+1:]
	}
	ev.SetString("url.domain", name)
	if n, err := strconv.ParseUint(port, 10, 16); err == nil {
		ev.Set("url.port", int64(n))
	}
}

// setExtras maps the optional parts of newer records.
func setExtras(ev *event.Event, r *record) {
	if r.HTTPSourceName != "-" {
		ev.SetString("aws.waf.source.name", r.HTTPSourceName)
	}
	if r.HTTPSourceID != "-" {
		ev.SetString("aws.waf.source.id", r.HTTPSourceID)
	}
	if r.FormatVersion != nil {
		ev.Set("aws.waf.format_version", *r.FormatVersion)
	}
	if r.ResponseCodeSent != nil {
		// The custom response a blocking rule sent.
		ev.Set("http.response.status_code", *r.ResponseCodeSent)
	}
	for _, h := range r.RequestHeadersInserted {
		if h.Name != "" {
			setHeader(ev, "aws.waf.request_headers_inserted.", h)
		}
	}
	if m := pruneMap(r.CaptchaResponse); m != nil {
		ev.SetObject("aws.waf.captcha_response", m)
	}
	if m := pruneMap(r.ChallengeResponse); m != nil {
		ev.SetObject("aws.waf.challenge_response", m)
	}
	ev.SetString("tls.client.ja3", r.JA3Fingerprint)
	ev.SetString("aws.waf.ja4_fingerprint", r.JA4Fingerprint)
	if r.RequestBodySize != nil {
		ev.Set("http.request.body.bytes", *r.RequestBodySize)
	}
	if r.RequestBodyInspected != nil {
		ev.Set("aws.waf.request_body_size_inspected", *r.RequestBodyInspected)
	}
	ev.Set("aws.waf.oversize_fields", r.OversizeFields)
}

// pruneList drops nulls, empty strings and empty lists and objects at
// every depth (WAF writes "ruleMatchDetails": null and "excludedRules": []
// and the like); nil when nothing is left.
func pruneList(list []any) []any {
	out := make([]any, 0, len(list))
	for _, v := range list {
		if p := prune(v); p != nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func pruneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if p := prune(v); p != nil {
			out[k] = p
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func prune(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return x
	case []any:
		if p := pruneList(x); p != nil {
			return p
		}
		return nil
	case []string:
		if len(x) == 0 {
			return nil
		}
		return x
	case map[string]any:
		if p := pruneMap(x); p != nil {
			return p
		}
		return nil
	default:
		return x
	}
}
