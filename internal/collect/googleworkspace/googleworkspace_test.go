package googleworkspace

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/collecttest"
	"github.com/mamori-sec/mamori/internal/collect/poll"
	"github.com/mamori-sec/mamori/internal/dataset"
	gwdatasets "github.com/mamori-sec/mamori/internal/datasets/googleworkspace"
	"github.com/mamori-sec/mamori/internal/intake"
)

const (
	saEmail = "mamori@project.iam.gserviceaccount.com"
	admin   = "admin@example.com"
)

var t0 = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

type harness struct {
	key   *rsa.PrivateKey
	api   *fakeGoogle
	sink  *collecttest.Sink
	clock *collecttest.Clock
	env   collect.Env
	cfg   Config
}

// testKey is made once: RSA key generation is the slowest step of a test.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })

func newHarness(t *testing.T) *harness {
	t.Helper()
	key, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{key: key, sink: &collecttest.Sink{}, clock: collecttest.NewClock(t0)}
	h.api = newFakeGoogle(t, &key.PublicKey, saEmail, admin)
	h.env = collecttest.Env(t, h.sink, h.clock)
	h.cfg = Config{
		CredentialsFile: writeKeyFile(t, key, saEmail, h.api.srv.URL+"/token"),
		Subject:         admin,
		Applications:    []string{"login"},
		BaseURL:         h.api.srv.URL,
		InitialLookback: time.Hour,
		PageSize:        3,
	}
	return h
}

func writeKeyFile(t *testing.T, key *rsa.PrivateKey, email, tokenURI string) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "project",
		"private_key_id": "0123abcd",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   email,
		"token_uri":      tokenURI,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "key.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (h *harness) collector(t *testing.T) *Collector {
	t.Helper()
	c, err := New(h.cfg, h.env)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// spread returns n activities of app, one every step from start.
func spread(app, prefix string, start time.Time, step time.Duration, n int) []activity {
	var out []activity
	for i := range n {
		out = append(out, activity{app: app, time: start.Add(time.Duration(i) * step), id: fmt.Sprintf("%s-%d", prefix, i)})
	}
	return out
}

// archivedIDs returns the uniqueQualifier of every activity in the archived
// objects, counting repeats, and checks each object is one page record.
func archivedIDs(t *testing.T, sink *collecttest.Sink) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for k, b := range sink.Objects(t) {
		if len(b.Records) != 1 {
			t.Errorf("object %s has %d records, want one page", k, len(b.Records))
		}
		for _, r := range b.Records {
			var page struct {
				Kind  string `json:"kind"`
				Items []struct {
					ID struct {
						UniqueQualifier string `json:"uniqueQualifier"`
					} `json:"id"`
				} `json:"items"`
			}
			if err := json.Unmarshal(r.Data, &page); err != nil {
				t.Fatalf("object %s is not an activities page: %v", k, err)
			}
			if page.Kind != "admin#reports#activities" {
				t.Errorf("object %s: kind %q", k, page.Kind)
			}
			for _, it := range page.Items {
				ids[it.ID.UniqueQualifier]++
			}
		}
	}
	return ids
}

func wantEachOnce(t *testing.T, got map[string]int, acts []activity) {
	t.Helper()
	for _, a := range acts {
		if got[a.id] != 1 {
			t.Errorf("activity %s archived %d times, want once", a.id, got[a.id])
		}
	}
	if len(got) != len(acts) {
		t.Errorf("archived %d distinct activities, want %d", len(got), len(acts))
	}
}

func TestPagingArchivesEveryPageAsReceived(t *testing.T) {
	h := newHarness(t)
	h.cfg.Applications = []string{"login", "mobile"}
	// Window: [11:00 - 10m lag ... ) = [10:50, 11:50).
	logins := spread("login", "l", t0.Add(-70*time.Minute), 7*time.Minute, 8) // 10:50 .. 11:39
	devices := spread("mobile", "m", t0.Add(-65*time.Minute), 20*time.Minute, 2)
	late := activity{app: "login", time: t0.Add(-5 * time.Minute), id: "too-recent"} // inside the lag
	h.api.add(logins...)
	h.api.add(devices...)
	h.api.add(late)

	c := h.collector(t)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	batches := h.sink.Batches()
	// 8 logins at 3 a page: 3 pages; 2 device activities: 1 page.
	if len(batches) != 4 {
		t.Fatalf("%d batches, want 4", len(batches))
	}
	for i, b := range batches {
		// Windows end a lag behind the clock (10m for login, 30m for
		// mobile) and span the initial look-back of an hour.
		wantDataset, wantStart := "google_workspace.login", t0.Add(-10*time.Minute-time.Hour)
		if i == 3 {
			wantDataset, wantStart = "google_workspace.device", t0.Add(-30*time.Minute-time.Hour)
		}
		if b.Dataset != wantDataset || b.Listener != "poll-googleworkspace" {
			t.Errorf("batch %d: dataset %s listener %s", i, b.Dataset, b.Listener)
		}
		if len(b.Records) != 1 || !b.Records[0].Received.Equal(wantStart) {
			t.Errorf("batch %d: want one record received at the window start %s, got %+v", i, wantStart, b.Records)
		}
		if !strings.HasPrefix(b.ID, "googleworkspace/") {
			t.Errorf("batch %d: ID %q", i, b.ID)
		}
	}
	if batches[0].ID == batches[1].ID {
		t.Errorf("two pages share ID %s", batches[0].ID)
	}
	got := archivedIDs(t, h.sink)
	wantEachOnce(t, got, append(logins, devices...))

	// The records are the answers' bytes: each is valid JSON ending as the
	// server wrote it (json.Encoder's newline included).
	if r := batches[0].Records[0].Data; r[len(r)-1] != '\n' {
		t.Errorf("record was re-encoded: %q", r[len(r)-10:])
	}
	cur := c.Cursor("login")
	if cur.Open != nil || !cur.Next.Equal(t0.Add(-10*time.Minute)) {
		t.Errorf("login cursor %+v, want closed at %s", cur, t0.Add(-10*time.Minute))
	}
	q := h.api.listCalls[0]
	for _, want := range []string{"startTime=2024-05-01T10%3A50%3A00.000Z", "endTime=2024-05-01T11%3A50%3A00.000Z", "maxResults=3"} {
		if !strings.Contains(q, want) {
			t.Errorf("first query %q lacks %s", q, want)
		}
	}
	if h.api.tokenCalls != 1 {
		t.Errorf("%d token requests for one poll, want 1 (the token is cached)", h.api.tokenCalls)
	}

	// The next poll, 30 minutes on, archives the activity that was too recent.
	h.clock.Advance(30 * time.Minute)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = archivedIDs(t, h.sink)
	wantEachOnce(t, got, append(append(logins, devices...), late))
}

func TestDatasetNamesMatchTheDatasets(t *testing.T) {
	want := map[string]string{
		"login":  gwdatasets.LoginName,
		"admin":  gwdatasets.AdminName,
		"drive":  gwdatasets.DriveName,
		"token":  gwdatasets.TokenName,
		"mobile": gwdatasets.DeviceName,
	}
	for app, ds := range want {
		if got := datasetOf(app); got != ds {
			t.Errorf("application %s archives under %q, the dataset is %q", app, got, ds)
		}
	}
}

func TestPagesParseAsTheirDatasets(t *testing.T) {
	h := newHarness(t)
	h.cfg.Applications = []string{"login", "mobile"}
	h.api.add(spread("login", "l", t0.Add(-65*time.Minute), 10*time.Minute, 4)...)
	h.api.add(spread("mobile", "m", t0.Add(-85*time.Minute), 10*time.Minute, 2)...)
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	parsers := map[string]dataset.Dataset{}
	for _, ds := range gwdatasets.New(gwdatasets.Options{}) {
		parsers[ds.Name] = ds
	}
	events := 0
	for _, b := range h.sink.Batches() {
		ds, ok := parsers[b.Dataset]
		if !ok {
			t.Fatalf("batch %s: no dataset %s", b.ID, b.Dataset)
		}
		for _, r := range b.Records {
			evs, err := ds.Parser.Parse(dataset.Record{Data: r.Data, Received: r.Received})
			if err != nil {
				t.Errorf("%s: %v", b.ID, err)
			}
			events += len(evs)
		}
	}
	if events != 6 {
		t.Errorf("%d events parsed from the archived pages, want 6", events)
	}
}

func TestTokenRefreshedAfter401MidRun(t *testing.T) {
	h := newHarness(t)
	acts := spread("login", "l", t0.Add(-69*time.Minute), 5*time.Minute, 9) // 3 pages
	h.api.add(acts...)
	// After the first page, every issued token stops working.
	h.sink.Hook = func(n int, _ intake.Batch) error {
		if n == 1 {
			h.api.expireTokens()
		}
		return nil
	}
	c := h.collector(t)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.api.tokenCalls != 2 {
		t.Errorf("%d token requests, want 2 (the first, and one after the 401)", h.api.tokenCalls)
	}
	wantEachOnce(t, archivedIDs(t, h.sink), acts)
}

func TestTokenRenewedBeforeExpiry(t *testing.T) {
	h := newHarness(t)
	h.api.expiry = 600
	h.api.add(spread("login", "a", t0.Add(-65*time.Minute), time.Minute, 2)...)
	c := h.collector(t)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 9 minutes on, the token has a minute left: it is replaced before use.
	h.clock.Advance(9*time.Minute + time.Second)
	h.api.add(activity{app: "login", time: t0.Add(-5 * time.Minute), id: "b"})
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if h.api.tokenCalls != 2 {
		t.Errorf("%d token requests, want 2", h.api.tokenCalls)
	}
	if len(h.api.listCalls) != 2 {
		t.Errorf("%d list requests, want 2 (no request with an expired token)", len(h.api.listCalls))
	}
}

func TestRetryAfterAnd5xx(t *testing.T) {
	h := newHarness(t)
	acts := spread("login", "l", t0.Add(-65*time.Minute), 10*time.Minute, 4)
	h.api.add(acts...)
	h.api.queue(
		canned{status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"error":{"code":429,"message":"Quota exceeded"}}`},
		canned{status: 503, body: `{"error":{"code":503,"message":"The service is currently unavailable."}}`},
		canned{status: 500, body: `oops`},
	)
	c := h.collector(t)
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	// 7s as asked; then the back-off of the second and third failures,
	// 2s and 4s, less a quarter with the jitter fixed at one half.
	want := []time.Duration{7 * time.Second, 1500 * time.Millisecond, 3 * time.Second}
	if got := h.clock.Sleeps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("sleeps %v, want %v", got, want)
	}
	wantEachOnce(t, archivedIDs(t, h.sink), acts)
}

func TestClientErrorStopsTheWindow(t *testing.T) {
	h := newHarness(t)
	h.api.add(spread("login", "l", t0.Add(-65*time.Minute), 10*time.Minute, 4)...)
	h.api.queue(canned{status: 403, body: `{"error":{"code":403,"message":"Not Authorized to access this resource/api"}}`})
	c := h.collector(t)
	err := c.Poll(context.Background())
	var herr *poll.HTTPError
	if !errors.As(err, &herr) || herr.Status != 403 || !strings.Contains(err.Error(), "Not Authorized to access this resource/api") {
		t.Fatalf("error %v, want the API's 403 message", err)
	}
	if len(h.sink.Batches()) != 0 {
		t.Error("archived a page of a failed window")
	}
	if cur := c.Cursor("login"); cur.Open == nil {
		t.Error("the failed window is not kept open for the next poll")
	}
	// The next poll fetches the same window and succeeds.
	if err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.sink.Batches()) != 2 {
		t.Errorf("%d batches after the retry, want 2", len(h.sink.Batches()))
	}
}

var errCrash = errors.New("simulated crash after the archive write")

func TestRestartAfterCrashNeitherSkipsNorRepeats(t *testing.T) {
	h := newHarness(t)
	acts := spread("login", "l", t0.Add(-69*time.Minute), 5*time.Minute, 10) // 4 pages
	h.api.add(acts...)
	// The second page is archived, then the process "dies" before it can
	// record any progress.
	h.sink.Hook = func(n int, _ intake.Batch) error {
		if n == 2 {
			return errCrash
		}
		return nil
	}
	c := h.collector(t)
	if err := c.Poll(context.Background()); !errors.Is(err, errCrash) {
		t.Fatalf("poll error %v, want the crash", err)
	}
	h.sink.Hook = nil

	// Later, a new process on the same state directory; meanwhile more
	// activity happened.
	h.clock.Advance(20 * time.Minute)
	more := spread("login", "m", t0.Add(-9*time.Minute), 3*time.Minute, 3) // 11:51 .. 11:57
	h.api.add(more...)
	c2 := h.collector(t)
	if cur := c2.Cursor("login"); cur.Open == nil || !cur.Open.Start.Equal(t0.Add(-70*time.Minute)) {
		t.Fatalf("restarted cursor %+v, want the open window of the crashed run", cur)
	}
	if err := c2.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := archivedIDs(t, h.sink)
	wantEachOnce(t, got, append(acts, more...))
	// The first two pages were written twice, under the same keys.
	objects := h.sink.Objects(t)
	if n := len(h.sink.Batches()) - len(objects); n != 2 {
		t.Errorf("%d rewrites of the same object, want 2 (pages 0 and 1 of the crashed window)", n)
	}
	if cur := c2.Cursor("login"); cur.Open != nil || !cur.Next.Equal(t0.Add(10*time.Minute)) {
		t.Errorf("cursor %+v, want closed at %s", cur, t0.Add(10*time.Minute))
	}
}

func TestBadCredentials(t *testing.T) {
	h := newHarness(t)
	h.api.add(spread("login", "l", t0.Add(-65*time.Minute), 10*time.Minute, 2)...)
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	h.cfg.CredentialsFile = writeKeyFile(t, other, saEmail, h.api.srv.URL+"/token")
	c := h.collector(t)
	err = c.Poll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "invalid_grant: Invalid JWT Signature.") {
		t.Fatalf("error %v, want Google's invalid_grant message", err)
	}
	if len(h.sink.Batches()) != 0 || len(h.api.listCalls) != 0 {
		t.Error("listed or archived without a token")
	}

	// A subject the service account may not act as.
	h2 := newHarness(t)
	h2.cfg.Subject = "someone@example.com"
	if err := h2.collector(t).Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "unauthorized_client") {
		t.Fatalf("error %v, want unauthorized_client", err)
	}
}

func TestNewRejectsBadKeysAndState(t *testing.T) {
	h := newHarness(t)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for name, tc := range map[string]struct{ content, want string }{
		"not json":    {`{"private_key": "-----BEGIN`, "not JSON"},
		"no email":    {`{"type":"service_account","private_key":"x"}`, "client_email"},
		"bad key":     {`{"type":"service_account","client_email":"a@b","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}`, "PKCS#8"},
		"user creds":  {`{"type":"authorized_user","client_id":"x"}`, "service_account"},
		"missing key": {`{"type":"service_account","client_email":"a@b"}`, "private_key"},
	} {
		cfg := h.cfg
		cfg.CredentialsFile = write(strings.ReplaceAll(name, " ", "_")+".json", tc.content)
		_, err := New(cfg, h.env)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "AAAA") {
			t.Errorf("%s: error quotes the key: %v", name, err)
		}
	}

	cfg := h.cfg
	cfg.CredentialsFile = ""
	cfg.CredentialsEnv = "MAMORI_TEST_GW_KEY_UNSET"
	if _, err := New(cfg, h.env); err == nil || !strings.Contains(err.Error(), "MAMORI_TEST_GW_KEY_UNSET is not set") {
		t.Errorf("unset variable: %v", err)
	}

	if err := os.WriteFile(filepath.Join(h.env.StateDir, "googleworkspace.json"), []byte(`{"streams":{"login":{"next":`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(h.cfg, h.env); err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Errorf("corrupt state: %v", err)
	}
}

func TestCredentialsFromEnvironment(t *testing.T) {
	h := newHarness(t)
	b, err := os.ReadFile(h.cfg.CredentialsFile)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAMORI_TEST_GW_KEY", string(b))
	h.cfg.CredentialsFile, h.cfg.CredentialsEnv = "", "MAMORI_TEST_GW_KEY"
	h.api.add(spread("login", "l", t0.Add(-65*time.Minute), 10*time.Minute, 1)...)
	if err := h.collector(t).Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(h.sink.Batches()) != 1 {
		t.Errorf("%d batches, want 1", len(h.sink.Batches()))
	}
}

func TestValidate(t *testing.T) {
	ok := Config{CredentialsFile: "/k.json", Subject: "a@b"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"no credentials":   func(c *Config) { c.CredentialsFile = "" },
		"both credentials": func(c *Config) { c.CredentialsEnv = "X" },
		"no subject":       func(c *Config) { c.Subject = "" },
		"unknown app":      func(c *Config) { c.Applications = []string{"login", "calendar"} },
		"device alias":     func(c *Config) { c.Applications = []string{"device"} },
		"twice":            func(c *Config) { c.Applications = []string{"login", "login"} },
		"lag of other app": func(c *Config) {
			c.Applications = []string{"login"}
			c.Lags = map[string]time.Duration{"drive": time.Hour}
		},
		"page size": func(c *Config) { c.PageSize = 1001 },
		"lookback":  func(c *Config) { c.InitialLookback = 181 * 24 * time.Hour },
		"negative":  func(c *Config) { c.Interval = -time.Second },
		"unitless":  func(c *Config) { c.Interval = 300 }, // 300ns: YAML "300" without a unit
		"bad url":   func(c *Config) { c.BaseURL = "admin.googleapis.com" },
		"bad name":  func(c *Config) { c.Name = "Google/Workspace" },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c := ok.withDefaults()
	if c.lag("login") != 10*time.Minute || c.lag("drive") != time.Hour {
		t.Errorf("default lags: login %s drive %s", c.lag("login"), c.lag("drive"))
	}
	c.Lag = 20 * time.Minute
	c.Lags = map[string]time.Duration{"drive": 3 * time.Hour}
	if c.lag("login") != 20*time.Minute || c.lag("drive") != 3*time.Hour {
		t.Errorf("configured lags: login %s drive %s", c.lag("login"), c.lag("drive"))
	}
}
