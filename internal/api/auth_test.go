package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/metrics"
	"github.com/mamori-sec/mamori/internal/search"
)

var fastArgon2 = auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

// authFixture is an API server with access control and two users: alice
// (admin) and bob (analyst, no HR logs).
type authFixture struct {
	srv    *httptest.Server
	svc    *auth.Service
	sink   *sink
	alerts *fakeAlerts
}

func newAuthFixture(t *testing.T, change func(*config.Auth)) *authFixture {
	t.Helper()
	hash := func(pw string) string {
		h, err := auth.HashPassword(pw, fastArgon2)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cfg := config.Default()
	cfg.Auth = config.Auth{
		Groups: map[string]config.Grant{"staff": {Deny: []string{"hr.*"}}},
		Users: []config.User{
			{Name: "alice", Role: "admin", PasswordHash: hash("alice-pw")},
			{Name: "bob", Role: "analyst", PasswordHash: hash("bob-pw"), Groups: []string{"staff"}},
		},
	}
	if change != nil {
		change(&cfg.Auth)
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	sk := &sink{}
	svc, err := auth.NewService(cfg.Auth, auth.Options{DataDir: t.TempDir(), Sink: sk, MemorySessions: true})
	if err != nil {
		t.Fatal(err)
	}
	fa := &fakeAlerts{alerts: map[string]alert.Alert{"a1": {ID: "a1", Status: alert.Open, Dataset: "linux.syslog"}}}
	s := &Server{Sink: sk, Datasets: datasets.Builtin(datasets.Options{}), Metrics: metrics.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: 1 << 20, Version: "test",
		Alerts: fa, Rules: &fakeRules{}, Auth: svc}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &authFixture{srv: srv, svc: svc, sink: sk, alerts: fa}
}

// client is a browser: it keeps cookies and does not follow redirects.
func (f *authFixture) client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *authFixture) do(t *testing.T, c *http.Client, method, path string, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func (f *authFixture) login(t *testing.T, c *http.Client, user, pw string) (*http.Response, WhoAmI) {
	t.Helper()
	b, _ := json.Marshal(LoginRequest{Username: user, Password: pw})
	resp, data := f.do(t, c, "POST", "/api/v1/auth/login", string(b), map[string]string{"Content-Type": "application/json"})
	var who WhoAmI
	_ = json.Unmarshal(data, &who)
	return resp, who
}

func errorOf(t *testing.T, data []byte) string {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatalf("body %q is not an error: %v", data, err)
	}
	return e.Error
}

func TestNoUsersEverythingOpen(t *testing.T) {
	f := newAuthFixture(t, func(a *config.Auth) { a.Users, a.Groups = nil, nil })
	c := f.client(t)
	resp, data := f.do(t, c, "GET", "/api/v1/auth/me", "", nil)
	if resp.StatusCode != 200 || strings.TrimSpace(string(data)) != `{"auth_required":false}` {
		t.Errorf("me: %d %s", resp.StatusCode, data)
	}
	if resp, _ := f.do(t, c, "GET", "/api/v1/alerts", "", nil); resp.StatusCode != 200 {
		t.Errorf("alerts without users: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, c, "POST", "/api/v1/intake/syslog", "a line", nil); resp.StatusCode != 200 {
		t.Errorf("intake without users: %d", resp.StatusCode)
	}
	if resp, _ := f.login(t, c, "alice", "alice-pw"); resp.StatusCode != 404 {
		t.Errorf("login without users: %d", resp.StatusCode)
	}
}

func TestUnauthenticated(t *testing.T) {
	f := newAuthFixture(t, nil)
	c := f.client(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/alerts"}, {"GET", "/api/v1/search?q=x"}, {"GET", "/api/v1/datasets"},
		{"POST", "/api/v1/intake/syslog"}, {"GET", "/metrics"}, {"GET", "/api/v1/auth/me"},
		{"POST", "/api/v1/alerts/a1/ack"}, {"GET", "/api/v1/rules"},
		// An unclean path never reaches an open route's exemption.
		{"GET", "/assets/../api/v1/alerts"},
	} {
		resp, data := f.do(t, c, tc.method, tc.path, "", nil)
		if tc.path == "/assets/../api/v1/alerts" {
			// The client cleans it; the server must still not serve data.
			if resp.StatusCode == 200 && bytes.Contains(data, []byte("alerts")) {
				t.Errorf("%s: served data", tc.path)
			}
			continue
		}
		if resp.StatusCode != 401 || errorOf(t, data) != "authentication required" {
			t.Errorf("%s %s: %d %s, want 401", tc.method, tc.path, resp.StatusCode, data)
		}
	}
	if f.alerts.alerts["a1"].Status != alert.Open {
		t.Error("an unauthenticated ack changed the alert")
	}
	if len(f.sink.batches) != 0 {
		t.Error("an unauthenticated intake was archived")
	}
	// Console pages redirect to the login page, keeping where to return.
	resp, _ := f.do(t, c, "GET", "/search?q=203.0.113.9&since=1h", "", nil)
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/login?next="+url.QueryEscape("/search?q=203.0.113.9&since=1h") {
		t.Errorf("console page: %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Health, the login page and assets are open.
	for _, p := range []string{"/api/v1/health", "/login"} {
		if resp, _ := f.do(t, c, "GET", p, "", nil); resp.StatusCode != 200 {
			t.Errorf("%s: %d, want 200 without a session", p, resp.StatusCode)
		}
	}
	// A bad bearer token or another scheme is refused.
	for _, h := range []string{"Bearer mamori_nope_nope", "Basic YWxpY2U6YWxpY2UtcHc=", "Bearer"} {
		if resp, _ := f.do(t, c, "GET", "/api/v1/alerts", "", map[string]string{"Authorization": h}); resp.StatusCode != 401 {
			t.Errorf("Authorization %q: %d", h, resp.StatusCode)
		}
	}
}

func TestLoginSessionAndCSRF(t *testing.T) {
	f := newAuthFixture(t, nil)
	c := f.client(t)
	resp, who := f.login(t, c, "bob", "bob-pw")
	if resp.StatusCode != 200 || who.Username != "bob" || who.Role != "analyst" || who.CSRFToken == "" || !who.AuthRequired {
		t.Fatalf("login: %d %+v", resp.StatusCode, who)
	}
	var cookie *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			cookie = ck
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" || cookie.Secure {
		t.Fatalf("cookie %+v (plain HTTP: not Secure)", cookie)
	}
	if strings.Contains(string(mustJSON(who)), cookie.Value) {
		t.Error("the session id is in the body")
	}
	resp, data := f.do(t, c, "GET", "/api/v1/auth/me", "", nil)
	var me WhoAmI
	_ = json.Unmarshal(data, &me)
	if resp.StatusCode != 200 || me.Username != "bob" || me.CSRFToken != who.CSRFToken {
		t.Errorf("me: %d %s", resp.StatusCode, data)
	}
	// State changes need the CSRF header.
	if resp, data := f.do(t, c, "POST", "/api/v1/alerts/a1/ack", "", nil); resp.StatusCode != 403 || !strings.Contains(errorOf(t, data), CSRFHeader) {
		t.Errorf("ack without CSRF: %d %s", resp.StatusCode, data)
	}
	if resp, _ := f.do(t, c, "POST", "/api/v1/alerts/a1/ack", "", map[string]string{CSRFHeader: who.CSRFToken + "x"}); resp.StatusCode != 403 {
		t.Errorf("ack with a wrong CSRF token: %d", resp.StatusCode)
	}
	if f.alerts.alerts["a1"].Status != alert.Open {
		t.Fatal("a request without the CSRF token changed the alert")
	}
	resp, _ = f.do(t, c, "POST", "/api/v1/alerts/a1/ack", `{"by": "mallory"}`, map[string]string{CSRFHeader: who.CSRFToken})
	if resp.StatusCode != 200 || f.alerts.who != "bob" {
		t.Errorf("ack: %d, recorded by %q, want bob (the logged-in user, not the body's)", resp.StatusCode, f.alerts.who)
	}
	// Logout needs the CSRF token too, then the session is gone.
	if resp, _ := f.do(t, c, "POST", "/api/v1/auth/logout", "", nil); resp.StatusCode != 403 {
		t.Errorf("logout without CSRF: %d", resp.StatusCode)
	}
	resp, _ = f.do(t, c, "POST", "/api/v1/auth/logout", "", map[string]string{CSRFHeader: who.CSRFToken})
	if resp.StatusCode != 204 {
		t.Errorf("logout: %d", resp.StatusCode)
	}
	if resp, _ := f.do(t, c, "GET", "/api/v1/auth/me", "", nil); resp.StatusCode != 401 {
		t.Errorf("me after logout: %d", resp.StatusCode)
	}
	// The old cookie, replayed, no longer works.
	other := f.client(t)
	u, _ := url.Parse(f.srv.URL)
	other.Jar.SetCookies(u, []*http.Cookie{{Name: SessionCookie, Value: cookie.Value}})
	if resp, _ := f.do(t, other, "GET", "/api/v1/alerts", "", nil); resp.StatusCode != 401 {
		t.Errorf("replayed cookie after logout: %d", resp.StatusCode)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func TestLoginFailuresLookAlike(t *testing.T) {
	f := newAuthFixture(t, nil)
	c := f.client(t)
	r1, _ := f.login(t, c, "bob", "wrong")
	_, d1 := f.do(t, c, "POST", "/api/v1/auth/login", `{"username":"bob","password":"wrong"}`, map[string]string{"Content-Type": "application/json"})
	_, d2 := f.do(t, c, "POST", "/api/v1/auth/login", `{"username":"nobody","password":"wrong"}`, map[string]string{"Content-Type": "application/json"})
	if r1.StatusCode != 401 || string(d1) != string(d2) {
		t.Errorf("wrong password %d %s; unknown user %s: want the same 401", r1.StatusCode, d1, d2)
	}
	for _, ck := range r1.Cookies() {
		if ck.Name == SessionCookie && ck.Value != "" {
			t.Error("a failed login set a session cookie")
		}
	}
	// A form post (what another site can make a browser send) is refused.
	resp, _ := f.do(t, c, "POST", "/api/v1/auth/login", "username=bob&password=bob-pw", map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if resp.StatusCode != 415 {
		t.Errorf("form login: %d, want 415", resp.StatusCode)
	}
}

func TestLoginRateLimit(t *testing.T) {
	f := newAuthFixture(t, nil)
	c := f.client(t)
	for i := 0; i < 5; i++ {
		if resp, _ := f.login(t, c, "bob", "guess"); resp.StatusCode != 401 {
			t.Fatalf("failure %d: %d", i+1, resp.StatusCode)
		}
	}
	resp, _ := f.login(t, c, "bob", "bob-pw")
	if resp.StatusCode != 429 {
		t.Fatalf("6th attempt, right password: %d, want 429", resp.StatusCode)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "30" {
		t.Errorf("Retry-After %q, want 30", ra)
	}
	// Another user from the same address still logs in (5 < 20 per address).
	if resp, _ := f.login(t, c, "alice", "alice-pw"); resp.StatusCode != 200 {
		t.Errorf("alice: %d", resp.StatusCode)
	}
}

func TestRolesAndTokens(t *testing.T) {
	f := newAuthFixture(t, nil)
	ingest, ingestSecret, err := f.svc.Tokens.Create(auth.TokenSpec{User: "fluentbit", Role: auth.Ingest})
	if err != nil {
		t.Fatal(err)
	}
	_, bobSecret, _ := f.svc.Tokens.Create(auth.TokenSpec{User: "bob"})
	_, metricsSecret, _ := f.svc.Tokens.Create(auth.TokenSpec{User: "prometheus", Role: auth.Metrics})
	c := f.client(t)
	bearer := func(s string) map[string]string { return map[string]string{"Authorization": "Bearer " + s} }
	for _, tc := range []struct {
		name, token, method, path string
		want                      int
	}{
		{"ingest sends logs", ingestSecret, "POST", "/api/v1/intake/syslog", 200},
		{"ingest cannot read alerts", ingestSecret, "GET", "/api/v1/alerts", 403},
		{"ingest cannot search", ingestSecret, "GET", "/api/v1/search?q=x", 403},
		{"ingest cannot read metrics", ingestSecret, "GET", "/metrics", 403},
		{"ingest gets no console", ingestSecret, "GET", "/search", 403},
		{"analyst token lists alerts", bobSecret, "GET", "/api/v1/alerts", 200},
		{"analyst token needs no CSRF", bobSecret, "POST", "/api/v1/alerts/a1/ack", 200},
		{"analyst cannot run rules", bobSecret, "POST", "/api/v1/rules/run?from=now-1h", 403},
		{"analyst cannot send logs", bobSecret, "POST", "/api/v1/intake/syslog", 403},
		{"analyst cannot read metrics", bobSecret, "GET", "/metrics", 403},
		{"metrics token reads metrics", metricsSecret, "GET", "/metrics", 200},
		{"metrics token reads nothing else", metricsSecret, "GET", "/api/v1/datasets", 403},
	} {
		body := ""
		if strings.HasPrefix(tc.path, "/api/v1/intake/") {
			body = "a line\n"
		}
		resp, data := f.do(t, c, tc.method, tc.path, body, bearer(tc.token))
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %s %s = %d %s, want %d", tc.name, tc.method, tc.path, resp.StatusCode, data, tc.want)
		}
	}
	if f.alerts.who != "bob" {
		t.Errorf("ack by token recorded as %q, want bob", f.alerts.who)
	}
	if _, err := f.svc.Tokens.Revoke(ingest.ID, "test"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := f.do(t, c, "POST", "/api/v1/intake/syslog", "x\n", bearer(ingestSecret)); resp.StatusCode != 401 {
		t.Errorf("revoked token: %d", resp.StatusCode)
	}
}

// TestGrantsReachHandlers: the reader's grants are in every request's
// context, and the dataset list shows only what the reader sees.
func TestGrantsReachHandlers(t *testing.T) {
	f := newAuthFixture(t, func(a *config.Auth) {
		a.Users[1].Datasets = config.Grant{Deny: []string{"linux.syslog"}}
	})
	c := f.client(t)
	f.login(t, c, "bob", "bob-pw")
	_, data := f.do(t, c, "GET", "/api/v1/datasets", "", nil)
	var ds struct{ Datasets []string }
	if err := json.Unmarshal(data, &ds); err != nil {
		t.Fatal(err)
	}
	for _, n := range ds.Datasets {
		if n == "linux.syslog" || n == mamoriaudit.Name {
			t.Errorf("bob is told of dataset %s", n)
		}
	}
	if len(ds.Datasets) < 10 {
		t.Errorf("datasets %v: too few", ds.Datasets)
	}
	admin := f.client(t)
	f.login(t, admin, "alice", "alice-pw")
	_, data = f.do(t, admin, "GET", "/api/v1/datasets", "", nil)
	if !strings.Contains(string(data), `"linux.syslog"`) || !strings.Contains(string(data), `"mamori.audit"`) {
		t.Errorf("the admin's list lacks datasets: %s", data)
	}
}

// TestAccessInContext checks the middleware's context directly, with a
// handler standing for any read path.
func TestAccessInContext(t *testing.T) {
	f := newAuthFixture(t, nil)
	var mu sync.Mutex
	var seen *search.Access
	s := &Server{Auth: f.svc, Logger: slog.New(slog.DiscardHandler)}
	h := s.authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = search.AccessFrom(r.Context())
		mu.Unlock()
	}))
	_, secret, _ := f.svc.Tokens.Create(auth.TokenSpec{User: "bob"})
	req := httptest.NewRequest("GET", "/api/v1/anything", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	h.ServeHTTP(httptest.NewRecorder(), req)
	if seen == nil || seen.Sees("hr.payroll") || !seen.Sees("linux.syslog") || seen.Sees(mamoriaudit.Name) {
		t.Errorf("bob's request carries access %+v", seen)
	}
}

func TestAuditRecords(t *testing.T) {
	f := newAuthFixture(t, nil)
	c := f.client(t)
	f.login(t, c, "nobody", "hunter2")
	f.login(t, c, "bob", "wrong-pw")
	_, who := f.login(t, c, "bob", "bob-pw")
	f.do(t, c, "POST", "/api/v1/alerts/a1/resolve", "", map[string]string{CSRFHeader: who.CSRFToken})
	f.do(t, c, "POST", "/api/v1/rules/run?from=now-1h", "", map[string]string{CSRFHeader: who.CSRFToken})
	f.do(t, c, "GET", "/api/v1/alerts?q=ignored&since=1h", "", nil)
	if err := f.svc.Audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var recs []mamoriaudit.Record
	var raw []string
	for _, b := range f.sink.batches {
		if b.Dataset != mamoriaudit.Name {
			continue
		}
		for _, r := range b.Records {
			var rec mamoriaudit.Record
			if err := json.Unmarshal(r.Data, &rec); err != nil {
				t.Fatal(err)
			}
			recs = append(recs, rec)
			raw = append(raw, string(r.Data))
		}
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.Action+" "+r.Outcome+" "+r.User)
	}
	want := []string{"login failure ", "login failure bob", "login success bob", "alert.resolve success bob",
		"access.denied failure bob", "search success bob"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("records\n got %q\nwant %q", got, want)
	}
	all := strings.Join(raw, "\n")
	for _, secret := range []string{"hunter2", "wrong-pw", "bob-pw", "nobody"} {
		if strings.Contains(all, secret) {
			t.Errorf("an audit record holds %q", secret)
		}
	}
	if len(recs) == 6 && (recs[3].AlertID != "a1" || recs[0].SourceIP != "127.0.0.1" || recs[5].From.IsZero()) {
		t.Errorf("records %+v", recs)
	}
}

func TestOpenPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/api/v1/health": true, "/api/v1/auth/login": true, "/login": true, "/assets/app.js": true, "/favicon.ico": true,
		"/assets/../api/v1/alerts": false, "/assets//../metrics": false, "/api/v1/auth/me": false, "/": false,
		"/api/v1/health/../search": false, "/login/../api/v1/search": false, "/metrics": false,
	} {
		if got := openPath(p); got != want {
			t.Errorf("openPath(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestLoginAgainEndsEarlierSession: logging in anew from a browser that
// holds a session ends that session.
func TestLoginAgainEndsEarlierSession(t *testing.T) {
	f := newAuthFixture(t, nil)
	c := f.client(t)
	resp, _ := f.login(t, c, "bob", "bob-pw")
	var first string
	for _, ck := range resp.Cookies() {
		if ck.Name == SessionCookie {
			first = ck.Value
		}
	}
	if resp, _ := f.login(t, c, "bob", "bob-pw"); resp.StatusCode != 200 {
		t.Fatalf("second login: %d", resp.StatusCode)
	}
	if _, ok := f.svc.Session(first); ok {
		t.Error("the earlier session still works")
	}
	if resp, _ := f.do(t, c, "GET", "/api/v1/auth/me", "", nil); resp.StatusCode != 200 {
		t.Errorf("the new session: %d", resp.StatusCode)
	}
}
