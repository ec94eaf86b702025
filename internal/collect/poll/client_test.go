package poll

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/collect/collecttest"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// script is a server that answers the n-th request with the n-th handler
// (the last one repeats) and counts requests.
type script struct {
	mu       sync.Mutex
	steps    []http.HandlerFunc
	n        int
	authSeen []string
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := min(s.n, len(s.steps)-1)
	s.n++
	s.authSeen = append(s.authSeen, r.Header.Get("Authorization"))
	s.mu.Unlock()
	s.steps[i](w, r)
}

func (s *script) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func status(code int, header map[string]string, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

func newClient(t *testing.T, clock *collecttest.Clock, auth Authorizer) *Client {
	t.Helper()
	env, err := collecttest.Env(t, &collecttest.Sink{}, clock).WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return NewClient(env, auth)
}

func serve(t *testing.T, steps ...http.HandlerFunc) (*script, string) {
	s := &script{steps: steps}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

func TestMaxBodyIsTheArchiveRecordLimit(t *testing.T) {
	if MaxBodyBytes != archive.MaxRecordBytes {
		t.Fatalf("MaxBodyBytes %d, archive.MaxRecordBytes %d", MaxBodyBytes, archive.MaxRecordBytes)
	}
}

func TestRetryAfterSecondsDateAndCap(t *testing.T) {
	for name, tc := range map[string]struct {
		header string
		want   time.Duration
	}{
		"seconds":     {"12", 12 * time.Second},
		"date":        {t0.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		"past date":   {t0.Add(-time.Hour).Format(http.TimeFormat), 0},
		"capped":      {"86400", DefaultMaxRetryAfter},
		"unreadable":  {"soon", 750 * time.Millisecond}, // back-off instead
		"negative":    {"-5", 750 * time.Millisecond},
		"not present": {"", 750 * time.Millisecond},
	} {
		t.Run(name, func(t *testing.T) {
			clock := collecttest.NewClock(t0)
			h := map[string]string{}
			if tc.header != "" {
				h["Retry-After"] = tc.header
			}
			s, u := serve(t, status(429, h, ""), status(200, nil, `{}`))
			body, err := newClient(t, clock, nil).Get(context.Background(), u)
			if err != nil || string(body) != "{}" {
				t.Fatalf("got %q, %v", body, err)
			}
			if got := clock.Sleeps(); len(got) != 1 || got[0] != tc.want {
				t.Errorf("sleeps %v, want [%s]", got, tc.want)
			}
			if s.count() != 2 {
				t.Errorf("%d requests", s.count())
			}
		})
	}
}

func TestBackoffDoublesWithJitterUpToCap(t *testing.T) {
	clock := collecttest.NewClock(t0)
	_, u := serve(t, status(503, nil, ""), status(503, nil, ""), status(500, nil, ""), status(502, nil, ""), status(503, nil, ""), status(200, nil, "ok"))
	c := newClient(t, clock, nil)
	c.MaxBackoff = 5 * time.Second
	jitters := []float64{0, 0.999, 0.5, 0, 0.999}
	c.Jitter = func() float64 { j := jitters[0]; jitters = jitters[1:]; return j }
	if _, err := c.Get(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	got := clock.Sleeps()
	// Base 1s, 2s, 4s, 5s (capped), 5s; the wait is between half and all of it.
	bases := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	if len(got) != len(bases) {
		t.Fatalf("sleeps %v", got)
	}
	for i, b := range bases {
		if got[i] < b/2 || got[i] > b {
			t.Errorf("wait %d is %s, outside [%s, %s]", i, got[i], b/2, b)
		}
	}
	if got[0] != 500*time.Millisecond || got[2] != 3*time.Second || got[3] != 2500*time.Millisecond {
		t.Errorf("waits %v do not follow the jitter", got)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	clock := collecttest.NewClock(t0)
	s, u := serve(t, status(503, nil, `{"error":{"code":503,"message":"Backend Error"}}`))
	c := newClient(t, clock, nil)
	c.MaxAttempts = 3
	_, err := c.Get(context.Background(), u+"/list?token=abc")
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.Status != 503 {
		t.Fatalf("error %v, want the 503", err)
	}
	for _, want := range []string{"Backend Error", "gave up after 3 attempts", "GET http://"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "token=abc") {
		t.Errorf("error %q carries the query", err)
	}
	if s.count() != 3 || len(clock.Sleeps()) != 2 {
		t.Errorf("%d requests, %d sleeps; want 3 and 2", s.count(), len(clock.Sleeps()))
	}
}

func TestNetworkErrorsRetried(t *testing.T) {
	clock := collecttest.NewClock(t0)
	hangUp := func(w http.ResponseWriter, _ *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	}
	s, u := serve(t, hangUp, status(200, nil, "fine"))
	body, err := newClient(t, clock, nil).Get(context.Background(), u)
	if err != nil || string(body) != "fine" {
		t.Fatalf("got %q, %v", body, err)
	}
	if s.count() != 2 || len(clock.Sleeps()) != 1 {
		t.Errorf("%d requests, sleeps %v", s.count(), clock.Sleeps())
	}
}

func TestClientErrorsNotRetried(t *testing.T) {
	for name, tc := range map[string]struct {
		code       int
		body, want string
	}{
		"google":  {403, `{"error":{"code":403,"message":"Not Authorized to access this resource/api","errors":[]}}`, "403 Forbidden: Not Authorized to access this resource/api"},
		"graph":   {400, `{"error":{"code":"BadRequest","message":"Invalid filter clause"}}`, "BadRequest: Invalid filter clause"},
		"oauth":   {400, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`, "invalid_grant: Invalid JWT Signature."},
		"message": {404, `{"message":"Not Found"}`, "404 Not Found: Not Found"},
		"text":    {400, "bad\nrequest\x00", "400 Bad Request: bad request"},
		"long":    {400, strings.Repeat("x", 2000), strings.Repeat("x", 512) + "…"},
		"empty":   {410, "", "410 Gone"},
	} {
		t.Run(name, func(t *testing.T) {
			clock := collecttest.NewClock(t0)
			s, u := serve(t, status(tc.code, nil, tc.body), status(200, nil, "{}"))
			_, err := newClient(t, clock, nil).Get(context.Background(), u)
			if err == nil || !strings.HasSuffix(err.Error(), tc.want) {
				t.Fatalf("error %v, want it to end %q", err, tc.want)
			}
			if s.count() != 1 || len(clock.Sleeps()) != 0 {
				t.Errorf("%d requests and sleeps %v: a %d was retried", s.count(), clock.Sleeps(), tc.code)
			}
		})
	}
}

// fakeAuth hands out numbered tokens and records invalidations.
type fakeAuth struct {
	n           int
	invalidated []string
	current     string
}

func (a *fakeAuth) Token(context.Context) (string, error) {
	if a.current == "" {
		a.n++
		a.current = fmt.Sprintf("tok-%d", a.n)
	}
	return a.current, nil
}

func (a *fakeAuth) Invalidate(tok string) {
	a.invalidated = append(a.invalidated, tok)
	if tok == a.current {
		a.current = ""
	}
}

func TestUnauthorizedRefreshesTokenOnce(t *testing.T) {
	clock := collecttest.NewClock(t0)
	auth := &fakeAuth{}
	s, u := serve(t, status(401, nil, `{"error":{"message":"expired"}}`), status(200, nil, "ok"))
	body, err := newClient(t, clock, auth).Get(context.Background(), u)
	if err != nil || string(body) != "ok" {
		t.Fatalf("got %q, %v", body, err)
	}
	if fmt.Sprint(s.authSeen) != "[Bearer tok-1 Bearer tok-2]" || fmt.Sprint(auth.invalidated) != "[tok-1]" {
		t.Errorf("authorization %v, invalidated %v", s.authSeen, auth.invalidated)
	}

	auth = &fakeAuth{}
	s, u = serve(t, status(401, nil, `{"error":{"message":"no access"}}`))
	_, err = newClient(t, clock, auth).Get(context.Background(), u)
	var herr *HTTPError
	if !errors.As(err, &herr) || herr.Status != 401 || !strings.Contains(err.Error(), "no access (refused again with a freshly fetched token)") {
		t.Fatalf("error %v", err)
	}
	if s.count() != 2 {
		t.Errorf("%d requests, want 2", s.count())
	}
	if len(clock.Sleeps()) != 0 {
		t.Errorf("slept %v on a 401", clock.Sleeps())
	}
}

func TestBodyTooLargeIsAnError(t *testing.T) {
	clock := collecttest.NewClock(t0)
	big := strings.Repeat("a", MaxBodyBytes+1)
	s, u := serve(t, status(200, nil, big))
	_, err := newClient(t, clock, nil).Get(context.Background(), u)
	if err == nil || !strings.Contains(err.Error(), "record limit") {
		t.Fatalf("error %v", err)
	}
	if s.count() != 1 {
		t.Errorf("%d requests: an oversized answer was retried", s.count())
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	clock := collecttest.NewClock(t0)
	ctx, cancel := context.WithCancel(context.Background())
	clock.OnSleep = func(time.Duration) { cancel() }
	s, u := serve(t, status(503, nil, ""))
	_, err := newClient(t, clock, nil).Get(ctx, u)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if s.count() != 1 {
		t.Errorf("%d requests after cancel", s.count())
	}
}

func TestPostFormAndJSON(t *testing.T) {
	clock := collecttest.NewClock(t0)
	var got []string
	_, u := serve(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = append(got, r.Method+" "+r.Header.Get("Content-Type")+" "+r.PostForm.Encode())
		w.WriteHeader(200)
	})
	c := newClient(t, clock, nil)
	if _, err := c.PostForm(context.Background(), u, map[string][]string{"a": {"1 2"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PostJSON(context.Background(), u, []byte(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	want := []string{"POST application/x-www-form-urlencoded a=1+2", "POST application/json; charset=utf-8 "}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}

func TestParseRetryAfter(t *testing.T) {
	if d, ok := ParseRetryAfter(" 3 ", t0); !ok || d != 3*time.Second {
		t.Errorf("seconds: %s %v", d, ok)
	}
	if d, ok := ParseRetryAfter("Wed, 01 May 2024 12:01:00 GMT", t0); !ok || d != time.Minute {
		t.Errorf("IMF date: %s %v", d, ok)
	}
	if d, ok := ParseRetryAfter("Wednesday, 01-May-24 12:00:30 GMT", t0); !ok || d != 30*time.Second {
		t.Errorf("RFC 850 date: %s %v", d, ok)
	}
	for _, v := range []string{"", "1.5", "-1", "tomorrow", "99999999999999"} {
		if _, ok := ParseRetryAfter(v, t0); ok {
			t.Errorf("%q accepted", v)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "Wed, 01 May 2024 12:01:00 GMT", "", "-1", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, t0)
		if !ok && d != 0 {
			t.Fatalf("%q: not ok but wait %s", v, d)
		}
		if d < 0 {
			t.Fatalf("%q: negative wait %s", v, d)
		}
	})
}

func FuzzErrorMessage(f *testing.F) {
	for _, s := range []string{
		`{"error":{"code":403,"message":"Forbidden"}}`,
		`{"error":"invalid_client","error_description":"AADSTS7000215"}`,
		`{"message":"Not Found"}`,
		"<html>\n<body>Bad Gateway</body></html>",
		`{"error":[1,2]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		m := errorMessage(body)
		if len(m) > maxMessage+len("…") {
			t.Fatalf("message of %d bytes", len(m))
		}
		for _, r := range m {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("control character %U in %q", r, m)
			}
		}
	})
}
