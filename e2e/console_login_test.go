package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// passwordHash is `mamori passwd` of a password given on stdin.
func passwordHash(t *testing.T, password string) string {
	t.Helper()
	code, out, errOut := runMamori(t, strings.NewReader(password+"\n"), "passwd", "--bcrypt", "--cost", "4")
	if code != 0 {
		t.Fatalf("mamori passwd: %d %s", code, errOut)
	}
	return strings.TrimSpace(out)
}

// apiToken is `mamori token create` over a data directory.
func apiToken(t *testing.T, cfg, dataDir string, args ...string) string {
	t.Helper()
	code, out, errOut := runMamori(t, nil, append([]string{"token", "create", "--config", cfg, "--data", dataDir}, args...)...)
	if code != 0 {
		t.Fatalf("mamori token create %v: %d %s", args, code, errOut)
	}
	return strings.TrimSpace(out)
}

// authedPost sends lines to the intake with a bearer token.
func authedPost(t *testing.T, s *server, token, dataset string, lines []string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.http+"/api/v1/intake/"+dataset, strings.NewReader(strings.Join(lines, "\n")+"\n"))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("post %s: %s %s", dataset, resp.Status, body)
	}
}

// authedCount is the exact count of q, read with a bearer token.
func authedCount(s *server, token, q string) int64 {
	req, _ := http.NewRequest(http.MethodGet, "http://"+s.http+"/api/v1/search?"+url.Values{"q": {q}, "count": {"exact"}, "limit": {"1"}}.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	var r searchResult
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&r) != nil || r.Total == nil {
		return -1
	}
	return *r.Total
}

// TestConsoleLogin: with users configured, the console asks for a login;
// a wrong password is refused; a user denied the AWS datasets sees none
// of their events in the results, the counts, the histogram, the facets
// or the sources, while a user with every dataset sees them.
func TestConsoleLogin(t *testing.T) {
	b := newBrowser(t)
	dataDir := t.TempDir()
	const password = "correct horse battery staple"
	hash := passwordHash(t, password)
	cfg := filepath.Join(t.TempDir(), "mamori.yaml")
	writeTestFile(t, cfg, fmt.Sprintf(`rules:
  builtin: false
auth:
  users:
    - {name: alice, role: analyst, password_hash: %q}
    - {name: carol, role: analyst, password_hash: %q, datasets: {deny: ["aws.*"]}}
`, hash, hash))
	ingest := apiToken(t, cfg, dataDir, "--user", "sender", "--role", "ingest")
	reader := apiToken(t, cfg, dataDir, "--user", "alice")
	s := startServer(t, dataDir, "--config", cfg)
	now := time.Now().UTC().Truncate(time.Second)
	var sys []string
	for i := 0; i < 5; i++ {
		sys = append(sys, fmt.Sprintf("<38>1 %s web-01 sshd %d - - Failed password for root from %s port %d ssh2",
			now.Add(-time.Duration(10-i)*time.Minute).Format(time.RFC3339), 4100+i, consoleIP, 40000+i))
	}
	authedPost(t, s, ingest, "syslog", sys)
	authedPost(t, s, ingest, "aws.cloudtrail", []string{fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"},"eventTime":"%s","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"%s","userAgent":"Mozilla/5.0","requestID":"r1","eventID":"e1","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"111122223333","responseElements":{"ConsoleLogin":"Success"}}`,
		now.Add(-2*time.Minute).Format(time.RFC3339), consoleIP)})
	deadline := time.Now().Add(30 * time.Second)
	for authedCount(s, reader, consoleIP) != 6 {
		if time.Now().After(deadline) {
			t.Fatalf("events not stored: count %d\n%s", authedCount(s, reader, consoleIP), s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	base := "http://" + s.http
	search := "/?" + url.Values{"q": {consoleIP}, "since": {"2h"}}.Encode()

	login := func(user, pass string) {
		t.Helper()
		b.waitFor("the login form", `location.pathname === '/login' && document.getElementById('username') !== null`)
		var cleared bool
		b.eval(`(() => { document.getElementById('username').value = ''; document.getElementById('password').value = ''; return true; })()`, &cleared)
		b.do("log in as "+user, chromedp.SendKeys(chromedp.ID("username"), user), chromedp.SendKeys(chromedp.ID("password"), pass+"\n"))
	}
	// A page without a session leads to the login page, which leads back.
	b.do("open a search", chromedp.Navigate(base+search))
	b.waitFor("the login page with the way back", `location.pathname === '/login' && new URLSearchParams(location.search).get('next') === `+jsString(search))
	login("carol", "wrong password")
	b.waitFor("the refusal", `!document.querySelector('form.login .error').hidden`)
	login("carol", password)
	b.waitFor("the search after logging in", `location.pathname + location.search === `+jsString(search)+
		` && document.querySelectorAll('#rows tr.event').length > 0 && /carol/.test(document.getElementById('who').textContent)`)
	b.waitFor("the counts", `/\b5 events\b/.test(document.getElementById('total').textContent) && !document.getElementById('histogram').hasAttribute('aria-busy')`)
	b.waitFor("facets", `document.querySelector('#facets .facet[data-field="event.dataset"]') !== null`)
	var seen struct {
		Datasets, Facets []string
		Bars             int
	}
	b.eval(`({Datasets: `+rowTexts("#rows tr.event", "td.ds")+`,
		Facets: [...document.querySelectorAll('#facets .fv')].map(e => e.textContent),
		Bars: [...document.querySelectorAll('#histogram .bars title')].map(e => +e.textContent.match(/: ([\d,]+)/)[1].replace(/,/g, '')).reduce((a, b) => a + b, 0)})`, &seen)
	if contains(seen.Datasets, "aws.") || contains(seen.Facets, "aws.") || contains(seen.Facets, "ConsoleLogin") || seen.Bars != 5 {
		t.Fatalf("carol, denied aws.*, sees %+v", seen)
	}
	b.do("open the sources", chromedp.Click(chromedp.CSS(`header nav a[data-nav="sources"]`)))
	b.waitFor("the sources", `document.querySelector('#datasets tr[data-dataset="linux.syslog"]') !== null`)
	var awsRows int
	b.eval(`document.querySelectorAll('#datasets tr[data-dataset^="aws."]').length`, &awsRows)
	if awsRows != 0 {
		t.Fatal("carol's sources page lists an AWS dataset")
	}

	// Log out; alice sees every dataset.
	b.do("log out", chromedp.Click(chromedp.CSS(`#who button`)))
	login("alice", password)
	b.waitFor("alice's console", `/alice/.test(document.getElementById('who').textContent)`)
	b.do("search again", chromedp.Navigate(base+search))
	b.waitFor("every dataset's events", `(() => { const d = `+rowTexts("#rows tr.event", "td.ds")+`; return d.length === 6 && d.includes('aws.cloudtrail'); })()`)
}
