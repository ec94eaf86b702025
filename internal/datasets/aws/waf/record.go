package waf

import (
	"errors"
	"fmt"

	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// record is one AWS WAF (v2, and Classic's compatible subset) log record as
// documented in the WAF developer guide. Rule lists stay generic: their
// shapes vary with the rule type and are kept as they are.
type record struct {
	Timestamp                   int64
	FormatVersion               *int64
	WebACLID                    string
	TerminatingRuleID           string
	TerminatingRuleType         string
	Action                      string
	TerminatingRuleMatchDetails []any
	HTTPSourceName              string
	HTTPSourceID                string
	RuleGroupList               []any
	RateBasedRuleList           []any
	NonTerminatingMatchingRules []any
	RequestHeadersInserted      []header
	ResponseCodeSent            *int64
	HTTPRequest                 *request
	Labels                      []string
	CaptchaResponse             map[string]any
	ChallengeResponse           map[string]any
	JA3Fingerprint              string
	JA4Fingerprint              string
	RequestBodySize             *int64
	RequestBodyInspected        *int64
	OversizeFields              []string
}

type request struct {
	ClientIP    string
	Country     string
	Headers     []header
	URI         string
	Args        string
	HTTPVersion string
	HTTPMethod  string
	RequestID   string
	Fragment    string
	Scheme      string
	Host        string
}

type header struct {
	Name  string
	Value string
}

var errNotObject = errors.New("record is not a JSON object")

// decode reads a record. It uses jsontree rather than encoding/json: a
// record is a kilobyte or two with a dozen headers, and reflection-driven
// decoding cost more than the 30,000 records a second a core must keep up
// with. Values of the wrong type read as absent, except a timestamp that
// is no number, which makes the record unreadable.
func decode(data []byte) (*record, error) {
	root, err := jsontree.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if root.Kind() != jsontree.Object {
		return nil, errNotObject
	}
	r := &record{
		WebACLID:                    root.Get("webaclId").Str(),
		TerminatingRuleID:           root.Get("terminatingRuleId").Str(),
		TerminatingRuleType:         root.Get("terminatingRuleType").Str(),
		Action:                      root.Get("action").Str(),
		TerminatingRuleMatchDetails: list(root.Get("terminatingRuleMatchDetails")),
		HTTPSourceName:              root.Get("httpSourceName").Str(),
		HTTPSourceID:                root.Get("httpSourceId").Str(),
		RuleGroupList:               list(root.Get("ruleGroupList")),
		RateBasedRuleList:           list(root.Get("rateBasedRuleList")),
		NonTerminatingMatchingRules: list(root.Get("nonTerminatingMatchingRules")),
		RequestHeadersInserted:      headers(root.Get("requestHeadersInserted")),
		FormatVersion:               intPtr(root.Get("formatVersion")),
		ResponseCodeSent:            intPtr(root.Get("responseCodeSent")),
		CaptchaResponse:             object(root.Get("captchaResponse")),
		ChallengeResponse:           object(root.Get("challengeResponse")),
		JA3Fingerprint:              root.Get("ja3Fingerprint").Str(),
		JA4Fingerprint:              root.Get("ja4Fingerprint").Str(),
		RequestBodySize:             intPtr(root.Get("requestBodySize")),
		RequestBodyInspected:        intPtr(root.Get("requestBodySizeInspectedByWAF")),
		OversizeFields:              strs(root.Get("oversizeFields")),
	}
	if ts := root.Get("timestamp"); !ts.IsNull() {
		n, ok := ts.Int()
		if !ok {
			return nil, fmt.Errorf("timestamp %.40q is not epoch milliseconds", ts.Text())
		}
		r.Timestamp = n
	}
	for el := range root.Get("labels").Elements() {
		if name := el.Get("name").Str(); name != "" {
			r.Labels = append(r.Labels, name)
		}
	}
	if h := root.Get("httpRequest"); h.Kind() == jsontree.Object {
		r.HTTPRequest = &request{
			ClientIP:    h.Get("clientIp").Str(),
			Country:     h.Get("country").Str(),
			Headers:     headers(h.Get("headers")),
			URI:         h.Get("uri").Str(),
			Args:        h.Get("args").Str(),
			HTTPVersion: h.Get("httpVersion").Str(),
			HTTPMethod:  h.Get("httpMethod").Str(),
			RequestID:   h.Get("requestId").Str(),
			Fragment:    h.Get("fragment").Str(),
			Scheme:      h.Get("scheme").Str(),
			Host:        h.Get("host").Str(),
		}
	}
	return r, nil
}

// list converts a rule list, pruned (see prune); nil when empty.
func list(v jsontree.Value) []any {
	if v.Kind() != jsontree.Array || v.Len() == 0 {
		return nil
	}
	switch x := prune(v.Any(nil)).(type) {
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return nil
}

func object(v jsontree.Value) map[string]any {
	if v.Kind() != jsontree.Object {
		return nil
	}
	m, _ := prune(v.Any(nil)).(map[string]any)
	return m
}

func headers(v jsontree.Value) []header {
	n := v.Len()
	if v.Kind() != jsontree.Array || n == 0 {
		return nil
	}
	out := make([]header, 0, n)
	for el := range v.Elements() {
		out = append(out, header{Name: el.Get("name").Str(), Value: el.Get("value").Str()})
	}
	return out
}

func strs(v jsontree.Value) []string {
	var out []string
	for el := range v.Elements() {
		if s := el.Str(); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func intPtr(v jsontree.Value) *int64 {
	if v.Kind() != jsontree.Number {
		return nil
	}
	n, ok := v.Int()
	if !ok {
		return nil
	}
	return &n
}
