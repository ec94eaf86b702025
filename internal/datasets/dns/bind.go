package dns

import (
	"net/netip"
	"strconv"
	"strings"

	"github.com/mamori-sec/mamori/internal/event"
)

// parseBIND maps the text of a BIND query-log line (after any syslog
// header). The shapes, all optionally preceded by a timestamp and by
// "category: severity: " when BIND writes its own file:
//
//	client [@0x..] ADDR#PORT [(NAME)]: [view V: ]query: NAME CLASS TYPE FLAGS [(SERVER)]
//	client ADDR#PORT UDP: query: NAME CLASS TYPE response: RCODE FLAGS [RR; ...]   (Infoblox)
//	client ... (NAME): query failed (REASON) for NAME/CLASS/TYPE at FILE:LINE      (query-errors)
//	client ... (NAME): query (cache) 'NAME/TYPE/CLASS' denied                      (security)
func (p *parser) parseBIND(ev *event.Event, s string) error {
	if t, zoned, n, ok := parseTime(s, p.loc); ok {
		ev.Set(event.FieldTimestamp, t)
		if !zoned {
			ev.SetString("event.timezone", p.loc.String())
		}
		s = strings.TrimLeft(s[n:], " ")
	}
	i := strings.Index(s, "client ")
	if i < 0 {
		return errorf("not a BIND query log line (no \"client \")")
	}
	if err := setCategory(ev, s[:i]); err != nil {
		return err
	}
	s = s[i+len("client "):]
	// "@0x7f...": the address of BIND's client object, of no use here.
	if strings.HasPrefix(s, "@0x") {
		sp := strings.IndexByte(s, ' ')
		if sp < 0 {
			return errorf("client object without an address")
		}
		s = s[sp+1:]
	}
	hash := strings.IndexByte(s, '#')
	if hash < 0 {
		return errorf("client address without #port")
	}
	addr, err := netip.ParseAddr(s[:hash])
	if err != nil {
		return errorf("client address: %w", err)
	}
	end := hash + 1
	for end < len(s) && s[end] >= '0' && s[end] <= '9' {
		end++
	}
	port, err := strconv.ParseInt(s[hash+1:end], 10, 64)
	if err != nil || port > 65535 {
		return errorf("client port %q", s[hash+1:end])
	}
	setClient(ev, addr.Unmap().String(), port)
	return parseClientMessage(ev, s[end:])
}

// severities are BIND's logging severities, to tell "info:" from a
// category name in "queries: info: ".
var severities = map[string]bool{
	"critical": true, "error": true, "warning": true, "notice": true, "info": true, "debug": true, "dynamic": true,
}

// setCategory reads the "queries: info: " that BIND's print-category and
// print-severity put before the message. Anything else there means the
// line is not a query log line.
func setCategory(ev *event.Event, prefix string) error {
	for prefix = strings.TrimSpace(prefix); prefix != ""; {
		word, rest, ok := strings.Cut(prefix, ":")
		if !ok || word == "" || strings.ContainsAny(word, " \t") {
			return errorf("unexpected text before \"client\": %q", prefix)
		}
		if severities[word] {
			ev.SetString("log.level", word)
		} else {
			ev.SetString("log.logger", word)
		}
		prefix = strings.TrimLeft(rest, " ")
	}
	return nil
}

// parseClientMessage reads what follows the client's address: the query
// name echoed in parentheses, the transport (Infoblox), the view, then the
// message itself.
func parseClientMessage(ev *event.Event, s string) error {
	for {
		s = strings.TrimLeft(s, " :")
		switch {
		case strings.HasPrefix(s, "("):
			end := strings.IndexByte(s, ')')
			if end < 0 {
				return errorf("unterminated query name after the client address")
			}
			s = s[end+1:]
		case strings.HasPrefix(s, "UDP:"), strings.HasPrefix(s, "TCP:"):
			ev.SetString("network.transport", strings.ToLower(s[:3]))
			s = s[4:]
		case strings.HasPrefix(s, "view "):
			view, rest, ok := strings.Cut(s[len("view "):], ":")
			if !ok {
				return errorf("view without a message")
			}
			ev.SetString("dns.query.view", view)
			s = rest
		case strings.HasPrefix(s, "signer "):
			_, rest, ok := strings.Cut(s, ": ")
			if !ok {
				return errorf("signer without a message")
			}
			s = rest
		case strings.HasPrefix(s, "query: "):
			return parseQuery(ev, s[len("query: "):])
		case strings.HasPrefix(s, "query failed ("):
			return parseQueryFailed(ev, s[len("query failed ("):])
		case strings.HasPrefix(s, "query (cache) '"):
			return parseDenied(ev, s[len("query (cache) '"):])
		case strings.HasPrefix(s, "query '"):
			return parseDenied(ev, s[len("query '"):])
		default:
			return errorf("client message is not a query: %.40q", s)
		}
	}
}

// parseQuery reads "NAME CLASS TYPE FLAGS [(SERVER)]", or Infoblox's
// "NAME CLASS TYPE response: RCODE FLAGS [RR; ...]".
func parseQuery(ev *event.Event, s string) error {
	head, resp, isResponse := strings.Cut(s, " response: ")
	f := strings.Fields(head)
	if len(f) < 3 {
		return errorf("query %q: want name, class and type", head)
	}
	question{name: f[0], class: f[1], qtype: f[2]}.set(ev)
	var fl flags
	for _, tok := range f[3:] {
		switch {
		case len(tok) > 2 && tok[0] == '(' && tok[len(tok)-1] == ')':
			// The address the query arrived on: this server.
			if ip, err := netip.ParseAddr(tok[1 : len(tok)-1]); err == nil {
				ev.SetString("server.ip", ip.Unmap().String())
				ev.SetString("destination.ip", ip.Unmap().String())
			}
		case tok[0] == '+' || tok[0] == '-':
			ev.SetString("dns.query.flags", tok)
			fl |= queryFlags(ev, tok)
		}
	}
	if !isResponse {
		setCommon(ev, "dns-query")
		ev.Set("dns.type", "query")
		ev.Set("dns.header_flags", fl.list())
		return nil
	}
	setCommon(ev, "dns-response")
	ev.Set("dns.type", "answer")
	rcode, rest, _ := strings.Cut(strings.TrimLeft(resp, " "), " ")
	if rcode == "" {
		return errorf("response without a response code")
	}
	ev.SetString("dns.response_code", rcode)
	setOutcome(ev, rcode)
	rest = strings.TrimLeft(rest, " ")
	if rest != "" && (rest[0] == '+' || rest[0] == '-') {
		tok, answers, _ := strings.Cut(rest, " ")
		ev.SetString("dns.query.response_flags", tok)
		fl |= responseFlags(tok)
		rest = answers
	}
	ev.Set("dns.header_flags", fl.list())
	setAnswers(ev, rest)
	return nil
}

// queryFlags reads BIND's query flags ("+E(0)K"): + recursion desired,
// S signed, E(n) EDNS version n, T TCP, D DNSSEC OK, C checking disabled,
// V valid server cookie, K a cookie. Only a query over TCP says T, so its
// absence means UDP.
func queryFlags(ev *event.Event, tok string) flags {
	var fl flags
	if tok[0] == '+' {
		fl |= flagRD
	}
	transport := "udp"
	for i := 1; i < len(tok); i++ {
		switch tok[i] {
		case '(':
			for i < len(tok) && tok[i] != ')' {
				i++
			}
		case 'T':
			transport = "tcp"
		case 'D':
			fl |= flagDO
		case 'C':
			fl |= flagCD
		}
	}
	ev.SetIfAbsent("network.transport", transport)
	return fl
}

// responseFlags reads Infoblox's response flags ("+AED"): + recursion
// available, A authoritative answer, t truncated, E EDNS, D DNSSEC OK.
func responseFlags(tok string) flags {
	var fl flags
	if tok[0] == '+' {
		fl |= flagRA
	}
	for i := 1; i < len(tok); i++ {
		switch tok[i] {
		case 'A':
			fl |= flagAA
		case 't':
			fl |= flagTC
		case 'D':
			fl |= flagDO
		}
	}
	return fl
}

// parseQueryFailed reads BIND's query-errors message after "query failed
// (": "SERVFAIL) for NAME/CLASS/TYPE at FILE:LINE".
func parseQueryFailed(ev *event.Event, s string) error {
	reason, rest, ok := strings.Cut(s, ")")
	if !ok || reason == "" {
		return errorf("query failed without a reason")
	}
	setCommon(ev, "dns-query-failed")
	ev.Set("event.outcome", "failure")
	ev.SetString("dns.query.error", reason)
	if isRcode(reason) {
		ev.Set("dns.type", "answer")
		ev.SetString("dns.response_code", reason)
	}
	rest = strings.TrimPrefix(rest, " for ")
	if at := strings.Index(rest, " at "); at >= 0 {
		rest = rest[:at]
	}
	// NAME/CLASS/TYPE
	if name, class, qtype, ok := splitSlashes(rest); ok {
		question{name: name, class: class, qtype: qtype}.set(ev)
	}
	return nil
}

// parseDenied reads BIND's security message after "query (cache) '":
// "NAME/TYPE/CLASS' denied" (type before class here).
func parseDenied(ev *event.Event, s string) error {
	quoted, rest, ok := strings.Cut(s, "'")
	if !ok || !strings.HasPrefix(rest, " denied") {
		return errorf("query message is neither a query nor a denial: %.40q", s)
	}
	setCommon(ev, "dns-query-denied")
	ev.Set("event.type", []string{"protocol", "denied"})
	ev.Set("event.outcome", "failure")
	if reason := strings.TrimSpace(rest[len(" denied"):]); reason != "" {
		ev.SetString("dns.query.error", strings.Trim(reason, "()"))
	}
	if name, qtype, class, ok := splitSlashes(quoted); ok {
		question{name: name, class: class, qtype: qtype}.set(ev)
	}
	return nil
}

// splitSlashes splits "a/b/c" at its last two slashes (a name may hold one).
func splitSlashes(s string) (a, b, c string, ok bool) {
	j := strings.LastIndexByte(s, '/')
	if j <= 0 {
		return "", "", "", false
	}
	i := strings.LastIndexByte(s[:j], '/')
	if i <= 0 {
		return "", "", "", false
	}
	return s[:i], s[i+1 : j], s[j+1:], true
}

// isRcode reports whether s is written like a response code (SERVFAIL),
// not a BIND result text ("timed out").
func isRcode(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}
