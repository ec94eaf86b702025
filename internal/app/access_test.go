package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/alert"
	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/intake"
)

// accessRules raise one alert on the restricted dataset (linux.syslog) and
// one on a visible one (nginx.access), both about the same address.
const accessRules = `title: SSH login failure (access test)
name: t_ssh_fail
logsource: {product: linux, service: sshd}
detection:
    sel:
        event.action: ssh_login
        event.outcome: failure
    condition: sel
level: medium
---
title: Admin probe (access test)
name: t_probe
logsource: {product: nginx}
detection:
    sel:
        url.path: /admin-probe
    condition: sel
level: high
`

// The address both datasets mention, and words only restricted events hold.
const (
	sharedIP   = "198.51.100.77"
	secretWord = "zebracorn"
	secretHost = "hr-db"
)

// accessEnv is a server with two analysts: alice sees every dataset, bob
// belongs to "staff", which may not read linux.* (the "HR servers").
type accessEnv struct {
	app     *App
	srv     *httptest.Server
	svc     *auth.Service
	secrets map[string]string // user → API token
	stop    func()
}

func openAccessEnv(t *testing.T) *accessEnv {
	t.Helper()
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules", "access.yml")
	if err := os.MkdirAll(filepath.Dir(rules), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rules, []byte(accessRules), 0o600); err != nil {
		t.Fatal(err)
	}
	hash := func(pw string) string {
		h, err := auth.HashPassword(pw, auth.Argon2Params{Memory: 1024, Time: 1, Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "data")
	cfg.Rules.Sigma = []string{rules}
	off := false
	cfg.Rules.Builtin = &off
	cfg.Auth = config.Auth{
		Groups: map[string]config.Grant{"staff": {Deny: []string{"linux.*"}}},
		Users: []config.User{
			{Name: "alice", PasswordHash: hash("alice-pw")},
			{Name: "bob", PasswordHash: hash("bob-pw"), Groups: []string{"staff"}},
			{Name: "root", Role: "admin", PasswordHash: hash("root-pw")},
		},
	}
	if err := cfg.Finish(); err != nil {
		t.Fatal(err)
	}
	book, err := LoadRules(cfg.Rules, RuleSources(cfg)...)
	if err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.OpenDetection(book); err != nil {
		a.Close()
		t.Fatal(err)
	}
	// The API server as Serve builds it, with its access control.
	srv := &api.Server{Sink: a.Intake, Datasets: a.Datasets, Searcher: a.Searcher, Metrics: a.Metrics,
		Logger: a.Logger, Now: a.now, MaxBodyBytes: int64(a.Config.HTTP.MaxBodyBytes), Version: "test",
		Health: a.health, Scan: a.scanAll, Alerts: a.Detect, Rules: a.Detect}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if err := a.secureAPI(ctx, srv, &wg); err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	env := &accessEnv{app: a, srv: hs, svc: srv.Auth, secrets: map[string]string{}}
	var once sync.Once
	env.stop = func() {
		once.Do(func() {
			hs.Close()
			cancel()
			wg.Wait()
			a.Close()
		})
	}
	t.Cleanup(env.stop)
	for _, u := range []string{"alice", "bob"} {
		_, secret, err := srv.Auth.Tokens.Create(auth.TokenSpec{User: u, By: "test"})
		if err != nil {
			t.Fatal(err)
		}
		env.secrets[u] = secret
	}
	return env
}

// ingest archives records of a dataset and processes them as serve does
// (the rules run on each committed batch).
func (e *accessEnv) ingest(t *testing.T, ds string, lines []string) {
	t.Helper()
	ctx := context.Background()
	var recs []intake.Record
	for _, l := range lines {
		recs = append(recs, intake.Record{Data: []byte(l), Received: time.Now()})
	}
	if err := e.app.Intake.Write(ctx, intake.Batch{Dataset: ds, Listener: "test", Records: recs}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.app.Drain(ctx); err != nil {
		t.Fatal(err)
	}
}

// reader is one user's browser session.
type reader struct {
	env    *accessEnv
	name   string
	client *http.Client
	csrf   string
	token  bool // authenticate with the API token instead of the session
}

func (e *accessEnv) login(t *testing.T, user, pw string) *reader {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	r := &reader{env: e, name: user, client: &http.Client{Jar: jar}}
	var who api.WhoAmI
	code := r.call(t, "POST", "/api/v1/auth/login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw), &who)
	if code != 200 || who.Username != user || who.CSRFToken == "" {
		t.Fatalf("login %s: %d %+v", user, code, who)
	}
	r.csrf = who.CSRFToken
	return r
}

// withToken is the same user calling with their API token.
func (r *reader) withToken() *reader {
	return &reader{env: r.env, name: r.name + " (token)", client: &http.Client{}, token: true}
}

// call sends a request and decodes a 200 answer into out; it returns the
// status.
func (r *reader) call(t *testing.T, method, path, body string, out any) int {
	t.Helper()
	code, data := r.raw(t, method, path, body)
	if code == 200 && out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return code
}

func (r *reader) raw(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, r.env.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token {
		req.Header.Set("Authorization", "Bearer "+r.env.secrets[strings.TrimSuffix(r.name, " (token)")])
	} else if r.csrf != "" {
		req.Header.Set(api.CSRFHeader, r.csrf)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

// searchAll pages through a search with the cursor, limit events a page,
// and returns every event and the first page's exact total.
func (r *reader) searchAll(t *testing.T, q string, extra url.Values, limit int) ([]*event.Event, int64) {
	t.Helper()
	var all []*event.Event
	var total int64 = -1
	cursor := ""
	for page := 0; page < 1000; page++ {
		v := url.Values{"q": {q}, "limit": {fmt.Sprint(limit)}, "count": {"exact"}}
		for k, vs := range extra {
			v[k] = vs
		}
		if cursor != "" {
			v.Set("cursor", cursor)
		}
		var res api.SearchResponse
		if code := r.call(t, "GET", "/api/v1/search?"+v.Encode(), "", &res); code != 200 {
			t.Fatalf("%s: search %q: %d", r.name, q, code)
		}
		if total < 0 && res.Total != nil {
			total = *res.Total
		}
		all = append(all, res.Events...)
		if res.Next == "" || len(res.Events) == 0 {
			return all, total
		}
		cursor = res.Next
	}
	t.Fatalf("search %q: too many pages", q)
	return nil, 0
}

// leaks reports the restricted events among evs (by dataset, and by the
// words only they hold).
func leaks(evs []*event.Event) []string {
	var out []string
	for _, e := range evs {
		b, _ := e.MarshalJSON()
		if strings.HasPrefix(e.String(event.FieldDataset), "linux.") || strings.Contains(string(b), secretWord) ||
			strings.Contains(string(b), secretHost) {
			out = append(out, e.String(event.FieldDataset)+" "+e.String(event.FieldMessage))
		}
	}
	return out
}

// TestRestrictedEventsUnreachable is the proof issue 6 asks for: a user
// without the grant for linux.* reaches none of its events by any route —
// bare keyword, field and match-all searches, counts, cursor paging in both
// orders, alert listings, an alert's page, its acknowledgement and
// resolution, the related-event timeline of a visible alert, the dataset
// list, and the console's histogram, facets and sources. Every check runs
// for alice too, who has the grant, so that each can fail.
func TestRestrictedEventsUnreachable(t *testing.T) {
	env := openAccessEnv(t)
	now := time.Now().UTC().Add(-10 * time.Minute)
	ts := func(i int) string { return now.Add(time.Duration(i) * time.Second).Format(time.RFC3339) }
	var restricted []string
	for i := 0; i < 3; i++ {
		restricted = append(restricted, fmt.Sprintf("<38>1 %s web-01 sshd 77 - - Failed password for root from %s port %d ssh2", ts(i), sharedIP, 50000+i))
	}
	restricted = append(restricted, fmt.Sprintf("<38>1 %s %s sshd 78 - - Invalid user %s from %s port 50010", ts(4), secretHost, secretWord, sharedIP))
	env.ingest(t, "syslog", restricted)
	nginxTime := now.Add(5 * time.Second).Format("02/Jan/2006:15:04:05 -0700")
	env.ingest(t, "nginx.access", []string{
		fmt.Sprintf(`%s - - [%s] "GET /admin-probe HTTP/1.1" 404 153 "-" "curl/8.5.0"`, sharedIP, nginxTime),
		fmt.Sprintf(`192.0.2.20 - - [%s] "GET / HTTP/1.1" 200 612 "-" "Mozilla/5.0"`, nginxTime),
	})

	alice := env.login(t, "alice", "alice-pw")
	bob := env.login(t, "bob", "bob-pw")
	readers := []*reader{alice, bob, alice.withToken(), bob.withToken()}
	sees := func(r *reader) bool { return strings.HasPrefix(r.name, "alice") }

	// The alerts, as alice lists them: one per dataset.
	var al api.AlertsResponse
	if code := alice.call(t, "GET", "/api/v1/alerts", "", &al); code != 200 {
		t.Fatalf("alerts: %d", code)
	}
	var restrictedAlert, visibleAlert alert.Alert
	for _, a := range al.Alerts {
		switch a.Dataset {
		case "linux.syslog":
			restrictedAlert = a
		case "nginx.access":
			visibleAlert = a
		}
	}
	if restrictedAlert.ID == "" || visibleAlert.ID == "" {
		t.Fatalf("want an alert on linux.syslog and one on nginx.access: %+v", al.Alerts)
	}

	t.Run("search", func(t *testing.T) {
		queries := []string{secretWord, sharedIP, "source.ip:" + sharedIP, "related.ip:" + sharedIP, "source.ip:198.51.100.0/24",
			"*", "", "event.dataset:linux.syslog", "event.dataset:linux.*", "host.name:" + secretHost, "user.name:" + secretWord,
			`"failed password"`, "NOT event.dataset:nginx.access", "_exists_:user.name", "sshd", secretWord + "*"}
		for _, r := range readers {
			for _, q := range queries {
				for _, extra := range []url.Values{nil, {"order": {"asc"}}, {"since": {"2h"}}} {
					evs, total := r.searchAll(t, q, extra, 1)
					leaked := leaks(evs)
					if sees(r) {
						continue
					}
					if len(leaked) > 0 {
						t.Errorf("%s: search %q %v returns restricted events: %q", r.name, q, extra, leaked)
					}
					if total != int64(len(evs)) {
						t.Errorf("%s: search %q %v counts %d, pages %d events: the count includes what is hidden", r.name, q, extra, total, len(evs))
					}
				}
			}
		}
		// The same searches find the restricted events for alice: the
		// checks above can fail.
		for _, q := range []string{secretWord, sharedIP, "*", "event.dataset:linux.syslog", "host.name:" + secretHost} {
			evs, total := alice.searchAll(t, q, nil, 100)
			if len(leaks(evs)) == 0 || total != int64(len(evs)) {
				t.Errorf("alice: search %q finds no restricted event (%d events, total %d)", q, len(evs), total)
			}
		}
		bobAll, _ := bob.searchAll(t, "*", nil, 100)
		aliceAll, _ := alice.searchAll(t, "*", nil, 100)
		if len(bobAll) != 2 || len(aliceAll) != 6 {
			t.Errorf("match-all: bob %d events (want 2), alice %d (want 6)", len(bobAll), len(aliceAll))
		}
	})

	t.Run("alerts", func(t *testing.T) {
		for _, r := range readers {
			var list api.AlertsResponse
			if code := r.call(t, "GET", "/api/v1/alerts?limit=1000", "", &list); code != 200 {
				t.Fatalf("%s: alerts %d", r.name, code)
			}
			var ids []string
			for _, a := range list.Alerts {
				ids = append(ids, a.ID)
			}
			sort.Strings(ids)
			hasRestricted := strings.Contains(strings.Join(ids, ","), restrictedAlert.ID)
			if hasRestricted != sees(r) {
				t.Errorf("%s: alert list %v holds the restricted alert: %v", r.name, ids, hasRestricted)
			}
			// Paging with a limit and an offset counts only visible alerts.
			var page api.AlertsResponse
			r.call(t, "GET", "/api/v1/alerts?limit=1&offset=0&status=open", "", &page)
			if !sees(r) && (len(page.Alerts) != 1 || page.Alerts[0].ID != visibleAlert.ID) {
				t.Errorf("%s: first page %+v", r.name, page.Alerts)
			}
			var second api.AlertsResponse
			r.call(t, "GET", "/api/v1/alerts?limit=1&offset=1", "", &second)
			if !sees(r) && len(second.Alerts) != 0 {
				t.Errorf("%s: a second page of alerts: %+v", r.name, second.Alerts)
			}
			code, body := r.raw(t, "GET", "/api/v1/alerts/"+restrictedAlert.ID, "")
			if (code == 200) != sees(r) {
				t.Errorf("%s: GET the restricted alert: %d %s", r.name, code, body)
			}
			if !sees(r) && strings.Contains(string(body), secretWord) {
				t.Errorf("%s: the refusal tells of the alert: %s", r.name, body)
			}
		}
		// Acknowledging and resolving a hidden alert fail as for an
		// unknown one, and change nothing.
		for _, r := range []*reader{bob, bob.withToken()} {
			for _, what := range []string{"ack", "resolve"} {
				if code, body := r.raw(t, "POST", "/api/v1/alerts/"+restrictedAlert.ID+"/"+what, ""); code != 404 {
					t.Errorf("%s: %s the restricted alert: %d %s, want 404", r.name, what, code, body)
				}
			}
		}
		a, err := env.app.Detect.Alerts.Get(context.Background(), restrictedAlert.ID)
		if err != nil || a.Status != alert.Open {
			t.Errorf("restricted alert after bob's tries: %v %v", a.Status, err)
		}
		if code := alice.call(t, "POST", "/api/v1/alerts/"+restrictedAlert.ID+"/ack", "", nil); code != 200 {
			t.Errorf("alice acknowledges the restricted alert: %d", code)
		}
	})

	t.Run("timeline", func(t *testing.T) {
		// The visible alert's timeline relates events by address: for
		// alice it holds the restricted sshd events, for bob it must not.
		for _, r := range readers {
			var res api.AlertResponse
			if code := r.call(t, "GET", "/api/v1/alerts/"+visibleAlert.ID+"?context_limit=1000", "", &res); code != 200 || res.Context == nil {
				t.Fatalf("%s: visible alert: %d %+v", r.name, code, res.ContextError)
			}
			leaked := leaks(res.Context.Events)
			if sees(r) && len(leaked) == 0 {
				t.Errorf("%s: the timeline lacks the related sshd events: the check could not fail", r.name)
			}
			if !sees(r) && len(leaked) > 0 {
				t.Errorf("%s: the timeline shows restricted events: %q", r.name, leaked)
			}
			// Paging the timeline on: the same search from its cursor.
			if res.Context.Next != "" {
				v := url.Values{"q": {res.Context.Query}, "order": {"asc"}, "cursor": {res.Context.Next},
					"from": {res.Context.From.Format(time.RFC3339Nano)}, "to": {res.Context.To.Format(time.RFC3339Nano)}}
				evs, _ := r.searchAll(t, res.Context.Query, v, 100)
				if !sees(r) && len(leaks(evs)) > 0 {
					t.Errorf("%s: the timeline's next page shows restricted events", r.name)
				}
			}
		}
	})

	t.Run("datasets and console reads", func(t *testing.T) {
		for _, r := range readers {
			code, body := r.raw(t, "GET", "/api/v1/datasets", "")
			if code != 200 || strings.Contains(string(body), `"linux.syslog"`) == !sees(r) {
				t.Errorf("%s: datasets %d %s", r.name, code, body)
			}
			for _, p := range []string{
				"/api/v1/facets?" + url.Values{"q": {sharedIP}}.Encode(),
				"/api/v1/facets?" + url.Values{"q": {"*"}, "fields": {"event.dataset,host.name,user.name"}}.Encode(),
				"/api/v1/sources",
			} {
				code, body := r.raw(t, "GET", p, "")
				if code == 404 || code == 405 {
					continue // not served by this build
				}
				shown := strings.Contains(string(body), "linux.syslog") || strings.Contains(string(body), secretHost) ||
					strings.Contains(string(body), secretWord)
				if code != 200 || (!sees(r) && shown) {
					t.Errorf("%s: GET %s: %d, restricted values shown %v: %s", r.name, p, code, shown, body)
				}
			}
			var h struct {
				Buckets []struct {
					Count int64 `json:"count"`
				} `json:"buckets"`
			}
			code, body = r.raw(t, "GET", "/api/v1/histogram?"+url.Values{"q": {sharedIP}, "since": {"2h"}}.Encode(), "")
			if code == 404 {
				continue
			}
			if err := json.Unmarshal(body, &h); code != 200 || err != nil {
				t.Errorf("%s: histogram %d %s", r.name, code, body)
				continue
			}
			var sum int64
			for _, b := range h.Buckets {
				sum += b.Count
			}
			want := int64(1) // the nginx probe
			if sees(r) {
				want = 5
			}
			if sum != want {
				t.Errorf("%s: histogram of %s counts %d, want %d", r.name, sharedIP, sum, want)
			}
		}
	})

	t.Run("audit", func(t *testing.T) {
		// Flush the audit log and process it, as the server does every
		// second; then the admin finds bob's searches, and bob finds
		// nothing of the audit log.
		if err := env.svc.Audit.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if _, err := env.app.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		root := env.login(t, "root", "root-pw")
		evs, _ := root.searchAll(t, `event.dataset:mamori.audit AND user.name:bob AND event.action:search AND mamori.audit.query:`+secretWord, nil, 100)
		if len(evs) == 0 {
			t.Fatal("the admin finds no audit record of bob's searches")
		}
		if evs[0].String("source.ip") != "127.0.0.1" || !evs[0].Has("mamori.audit.results") {
			t.Errorf("audit event %v", evs[0].Keys())
		}
		// A histogram is a search too: its exact count is recorded, and
		// it is the count of what bob may see.
		hists, _ := root.searchAll(t, `event.dataset:mamori.audit AND user.name:bob AND url.path:"/api/v1/histogram"`, nil, 100)
		if len(hists) == 0 {
			t.Fatal("the admin finds no audit record of bob's histograms")
		}
		if total, _ := hists[0].Get("mamori.audit.total"); total != int64(1) {
			t.Errorf("bob's histogram audited with total %v (%T), want 1", total, total)
		}
		acks, _ := root.searchAll(t, `event.dataset:mamori.audit AND event.action:"alert.acknowledge" AND user.name:alice`, nil, 100)
		if len(acks) != 1 || acks[0].String("mamori.audit.alert_id") != restrictedAlert.ID {
			t.Errorf("acknowledgement audit: %d events", len(acks))
		}
		logins, _ := root.searchAll(t, `event.dataset:mamori.audit AND event.action:login AND event.outcome:success`, nil, 100)
		if len(logins) < 2 {
			t.Errorf("%d successful logins audited, want at least 2", len(logins))
		}
		for _, r := range []*reader{alice, bob} {
			if evs, total := r.searchAll(t, "event.dataset:mamori.audit", nil, 100); len(evs) != 0 || total != 0 {
				t.Errorf("%s reads the audit log: %d events", r.name, len(evs))
			}
		}
		for _, pw := range []string{"alice-pw", "bob-pw", "root-pw", env.secrets["bob"]} {
			if evs, _ := root.searchAll(t, fmt.Sprintf("%q", pw), nil, 10); len(evs) != 0 {
				t.Errorf("a secret is searchable: %d events", len(evs))
			}
		}
	})
}
