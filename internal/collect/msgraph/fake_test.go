package msgraph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// entry is one sign-in or directory audit as the fake Graph holds it.
type entry struct {
	list string // "signIns" or "directoryAudits"
	time time.Time
	id   string
}

type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeGraph answers the v2.0 token endpoint and the two audit log lists as
// Microsoft documents them: $filter on the time property (ge/lt), $top, and
// @odata.nextLink carrying a $skiptoken.
type fakeGraph struct {
	t                        *testing.T
	srv                      *httptest.Server
	tenant, clientID, secret string
	expiresIn                int
	nextLinkHost             string // when set, next links point there
	mu                       sync.Mutex
	entries                  []entry
	tokens                   map[string]bool
	issued, tokenCalls       int
	requests                 []string // request URIs of the lists
	canned                   []canned
}

var filterRE = regexp.MustCompile(`^(\w+) ge (\S+) and (\w+) lt (\S+)$`)

func newFakeGraph(t *testing.T) *fakeGraph {
	f := &fakeGraph{t: t, tenant: "contoso.onmicrosoft.com", clientID: "11111111-2222-3333-4444-555555555555",
		secret: "s3cr3t~value", expiresIn: 3599, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", f.token)
	mux.HandleFunc("GET /v1.0/auditLogs/{list}", f.list)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGraph) add(es ...entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.entries = append(f.entries, es...)
}

func (f *fakeGraph) expireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

func (f *fakeGraph) queue(c ...canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned = append(f.canned, c...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGraph) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	switch {
	case r.PathValue("tenant") != f.tenant:
		writeJSON(w, 400, map[string]string{"error": "invalid_request", "error_description": "AADSTS90002: Tenant not found."})
	case r.PostForm.Get("grant_type") != "client_credentials":
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type"})
	case r.PostForm.Get("scope") != DefaultScope:
		writeJSON(w, 400, map[string]string{"error": "invalid_scope"})
	case r.PostForm.Get("client_id") != f.clientID || r.PostForm.Get("client_secret") != f.secret:
		writeJSON(w, 401, map[string]string{"error": "invalid_client",
			"error_description": "AADSTS7000215: Invalid client secret provided."})
	default:
		f.issued++
		tok := fmt.Sprintf("eyJ0eXAi.graph-%d", f.issued)
		f.tokens[tok] = true
		writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": f.expiresIn, "ext_expires_in": f.expiresIn, "access_token": tok})
	}
}

func (f *fakeGraph) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.RequestURI)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !f.tokens[tok] {
		writeJSON(w, 401, map[string]any{"error": map[string]any{"code": "InvalidAuthenticationToken", "message": "Access token has expired or is not yet valid."}})
		return
	}
	if len(f.canned) > 0 {
		c := f.canned[0]
		f.canned = f.canned[1:]
		for k, v := range c.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.status)
		_, _ = w.Write([]byte(c.body))
		return
	}
	list := r.PathValue("list")
	field := map[string]string{"signIns": "createdDateTime", "directoryAudits": "activityDateTime"}[list]
	q := r.URL.Query()
	m := filterRE.FindStringSubmatch(q.Get("$filter"))
	bad := func(msg string) {
		writeJSON(w, 400, map[string]any{"error": map[string]any{"code": "BadRequest", "message": msg}})
	}
	if m == nil || m[1] != field || m[3] != field {
		bad("Invalid filter clause: " + q.Get("$filter"))
		return
	}
	start, err1 := time.Parse(time.RFC3339, m[2])
	end, err2 := time.Parse(time.RFC3339, m[4])
	top, err3 := strconv.Atoi(q.Get("$top"))
	if err1 != nil || err2 != nil || err3 != nil || top < 1 || top > 1000 {
		bad("Invalid $filter or $top")
		return
	}
	skip := 0
	if s := q.Get("$skiptoken"); s != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(s, "skip+"))
		if err != nil {
			bad("Invalid $skiptoken")
			return
		}
		skip = n
	}
	var match []entry
	for _, e := range f.entries {
		if e.list == list && !e.time.Before(start) && e.time.Before(end) {
			match = append(match, e)
		}
	}
	sort.Slice(match, func(i, j int) bool { return match[i].time.After(match[j].time) })
	values := []any{}
	for i := skip; i < len(match) && i < skip+top; i++ {
		e := match[i]
		values = append(values, map[string]any{"id": e.id, field: e.time.UTC().Format(time.RFC3339), "userPrincipalName": "alice@contoso.com"})
	}
	page := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/" + list, "value": values}
	if skip+top < len(match) {
		host := f.srv.URL
		if f.nextLinkHost != "" {
			host = f.nextLinkHost
		}
		// Graph's next links repeat the query and add a $skiptoken whose
		// value needs escaping; it must come back byte for byte.
		page["@odata.nextLink"] = host + r.URL.Path + "?$filter=" + url.QueryEscape(q.Get("$filter")) +
			"&$top=" + q.Get("$top") + "&$skiptoken=skip%2B" + strconv.Itoa(skip+top)
	}
	writeJSON(w, 200, page)
}
