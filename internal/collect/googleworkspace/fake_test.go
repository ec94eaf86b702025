package googleworkspace

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// activity is one Reports API activity as the fake server holds it.
type activity struct {
	app  string
	time time.Time
	id   string // id.uniqueQualifier
}

func (a activity) json() map[string]any {
	return map[string]any{
		"kind": "admin#reports#activity",
		"id": map[string]any{
			"time":            a.time.UTC().Format(apiTime),
			"uniqueQualifier": a.id,
			"applicationName": a.app,
			"customerId":      "C0abc123",
		},
		"actor":     map[string]any{"email": "alice@example.com", "profileId": "1001"},
		"ipAddress": "192.0.2.10",
		"events":    []any{map[string]any{"type": "login", "name": "login_success"}},
	}
}

// canned is an answer the server gives instead of serving the request.
type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeGoogle answers the token endpoint and activities.list the way the
// Reports API documents them. It serves [startTime, endTime) and pages by
// offset tokens.
type fakeGoogle struct {
	t      *testing.T
	srv    *httptest.Server
	pub    *rsa.PublicKey
	email  string
	sub    string
	expiry int // expires_in of issued tokens

	mu         sync.Mutex
	activities []activity
	tokens     map[string]bool
	issued     int
	tokenCalls int
	listCalls  []string // raw queries of activities.list
	canned     []canned // served first, in order, by activities.list
	tokenErr   *canned  // served by the token endpoint while set
}

func newFakeGoogle(t *testing.T, pub *rsa.PublicKey, email, sub string) *fakeGoogle {
	f := &fakeGoogle{t: t, pub: pub, email: email, sub: sub, expiry: 3600, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", f.token)
	mux.HandleFunc("GET /admin/reports/v1/activity/users/all/applications/{app}", f.list)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeGoogle) add(acts ...activity) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.activities = append(f.activities, acts...)
}

// expireTokens revokes every token issued so far, as if they had expired.
func (f *fakeGoogle) expireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

func (f *fakeGoogle) queue(c ...canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned = append(f.canned, c...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeGoogle) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	if f.tokenErr != nil {
		w.WriteHeader(f.tokenErr.status)
		_, _ = w.Write([]byte(f.tokenErr.body))
		return
	}
	if err := r.ParseForm(); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_request"})
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		writeJSON(w, 400, map[string]string{"error": "unsupported_grant_type", "error_description": "grant_type " + g})
		return
	}
	parts := strings.Split(r.PostForm.Get("assertion"), ".")
	if len(parts) != 3 {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT."})
		return
	}
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(f.pub, crypto.SHA256, sum[:], sig) != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
		return
	}
	var claims map[string]any
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if err := json.Unmarshal(cb, &claims); err != nil {
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT claims."})
		return
	}
	iat, _ := claims["iat"].(float64)
	exp, _ := claims["exp"].(float64)
	switch {
	case claims["iss"] != f.email:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid issuer"})
		return
	case claims["scope"] != Scope:
		writeJSON(w, 400, map[string]string{"error": "invalid_scope"})
		return
	case claims["aud"] != f.srv.URL+"/token":
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT: aud"})
		return
	case claims["sub"] != f.sub:
		writeJSON(w, 401, map[string]string{"error": "unauthorized_client", "error_description": "Client is unauthorized to retrieve access tokens using this method"})
		return
	case exp-iat != 3600:
		writeJSON(w, 400, map[string]string{"error": "invalid_grant", "error_description": "Invalid JWT: exp"})
		return
	}
	f.issued++
	tok := fmt.Sprintf("ya29.token-%d", f.issued)
	f.tokens[tok] = true
	writeJSON(w, 200, map[string]any{"access_token": tok, "expires_in": f.expiry, "token_type": "Bearer"})
}

func (f *fakeGoogle) list(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.listCalls = append(f.listCalls, r.URL.RawQuery)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !f.tokens[tok] {
		writeJSON(w, 401, map[string]any{"error": map[string]any{"code": 401, "message": "Request had invalid authentication credentials.", "status": "UNAUTHENTICATED"}})
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
	q := r.URL.Query()
	start, err1 := time.Parse(time.RFC3339, q.Get("startTime"))
	end, err2 := time.Parse(time.RFC3339, q.Get("endTime"))
	size, err3 := strconv.Atoi(q.Get("maxResults"))
	if err1 != nil || err2 != nil || err3 != nil || size < 1 || size > 1000 || !start.Before(end) {
		writeJSON(w, 400, map[string]any{"error": map[string]any{"code": 400, "message": "Invalid value for startTime, endTime or maxResults"}})
		return
	}
	offset := 0
	if p := q.Get("pageToken"); p != "" {
		if offset, err1 = strconv.Atoi(strings.TrimPrefix(p, "A:")); err1 != nil {
			writeJSON(w, 400, map[string]any{"error": map[string]any{"code": 400, "message": "Invalid pageToken"}})
			return
		}
	}
	var match []activity
	for _, a := range f.activities {
		if a.app == r.PathValue("app") && !a.time.Before(start) && a.time.Before(end) {
			match = append(match, a)
		}
	}
	// Newest first, as the API lists them.
	sort.Slice(match, func(i, j int) bool { return match[i].time.After(match[j].time) })
	page := map[string]any{"kind": "admin#reports#activities", "etag": `"etag-1"`}
	var items []any
	for i := offset; i < len(match) && i < offset+size; i++ {
		items = append(items, match[i].json())
	}
	if items != nil {
		page["items"] = items
	}
	if offset+size < len(match) {
		page["nextPageToken"] = fmt.Sprintf("A:%d", offset+size)
	}
	writeJSON(w, 200, page)
}
