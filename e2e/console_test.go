package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// consoleIP is the attacker of the console test: an sshd brute force and a
// CloudTrail root login come from it.
const consoleIP = "203.0.113.50"

// seedConsole sends, through the HTTP intake, an sshd brute force from
// consoleIP followed by a login (syslog), background sshd traffic, and
// CloudTrail records with a root console login from consoleIP and one
// record that does not parse. It waits until every event is stored and
// both built-in rules (sshd brute force, root login) have raised alerts.
func seedConsole(t *testing.T, s *server) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	var sys []string
	line := func(at time.Time, host string, pid int, msg string) string {
		return fmt.Sprintf("<38>1 %s %s sshd %d - - %s", at.Format(time.RFC3339), host, pid, msg)
	}
	for i := 0; i < 24; i++ {
		at := now.Add(-time.Duration(50-2*i) * time.Minute)
		host := []string{"web-01", "web-02", "db-01"}[i%3]
		if i%4 == 0 {
			sys = append(sys, line(at, host, 2000+i, fmt.Sprintf("Accepted publickey for deploy from 10.0.0.%d port %d ssh2", 2+i%5, 50000+i)))
		} else {
			sys = append(sys, line(at, host, 2000+i, fmt.Sprintf("Failed password for bob from 198.51.100.%d port %d ssh2", 10+i, 41000+i)))
		}
	}
	for i := 0; i < 5; i++ {
		sys = append(sys, line(now.Add(-time.Duration(5*60-3*i)*time.Second), "web-01", 4100+i,
			fmt.Sprintf("Failed password for root from %s port %d ssh2", consoleIP, 40000+i)))
	}
	sys = append(sys, line(now.Add(-4*time.Minute), "web-01", 4105, "Accepted password for root from "+consoleIP+" port 40010 ssh2"))
	if code, err := s.post(ctx, "syslog", sys); err != nil || code != http.StatusOK {
		t.Fatalf("post syslog: %d %v", code, err)
	}
	ct := func(at time.Time, identity, event, source, ip, extra string) string {
		return fmt.Sprintf(`{"eventVersion":"1.09","userIdentity":%s,"eventTime":"%s","eventSource":"%s","eventName":"%s","awsRegion":"us-east-1","sourceIPAddress":"%s","userAgent":"Mozilla/5.0","requestID":"req-%d","eventID":"evt-%d","readOnly":false,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"111122223333"%s}`,
			identity, at.Format(time.RFC3339), source, event, ip, at.Unix(), at.UnixNano(), extra)
	}
	alice := `{"type":"IAMUser","principalId":"AIDAEXAMPLE","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","userName":"alice"}`
	root := `{"type":"Root","principalId":"111122223333","arn":"arn:aws:iam::111122223333:root","accountId":"111122223333"}`
	var trail []string
	for i := 0; i < 6; i++ {
		trail = append(trail, ct(now.Add(-time.Duration(40-5*i)*time.Minute), alice, []string{"GetObject", "PutObject", "ListBuckets"}[i%3],
			"s3.amazonaws.com", fmt.Sprintf("198.51.100.%d", 60+i), ""))
	}
	trail = append(trail, ct(now.Add(-3*time.Minute), root, "ConsoleLogin", "signin.amazonaws.com", consoleIP,
		`,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"MFAUsed":"No"}`))
	trail = append(trail, `{"eventVersion": "1.09", "truncated record`)
	if code, err := s.post(ctx, "aws.cloudtrail", trail); err != nil || code != http.StatusOK {
		t.Fatalf("post cloudtrail: %d %v", code, err)
	}
	want := int64(len(sys) + len(trail))
	if n := s.waitCount("", want, 30*time.Second); n != want {
		t.Fatalf("stored %d events, want %d\n%s", n, want, s.log)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		alerts := s.alerts(t, "")
		if alerts["mamori-aws-root-console-login"] != "" && alerts["mamori-sshd-bruteforce-then-success"] != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("alerts raised: %v, want the root login and the sshd brute force\n%s", alerts, s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// alerts returns the alerts of the server by rule id → alert id, and the
// status of the one whose id is given (under key "status").
func (s *server) alerts(t *testing.T, id string) map[string]string {
	t.Helper()
	resp, err := http.Get("http://" + s.http + "/api/v1/alerts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct {
		Alerts []struct {
			ID     string `json:"id"`
			RuleID string `json:"rule_id"`
			Status string `json:"status"`
		} `json:"alerts"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("alerts: %s: %v", body, err)
	}
	m := map[string]string{}
	for _, a := range out.Alerts {
		m[a.RuleID] = a.ID
		if a.ID == id {
			m["status"] = a.Status
		}
	}
	return m
}

// TestConsole drives the web console in headless Chromium over a real
// server: search, histogram and results, an event's document, a click on a
// field value that filters, a pivot on an address across datasets, a
// dragged zoom, a query error, back and forward, acknowledging an alert,
// and the sources page. It saves screenshots of the main screens.
func TestConsole(t *testing.T) {
	b := newBrowser(t)
	start := time.Now()
	s := startServer(t, "")
	seedConsole(t, s)
	base := "http://" + s.http
	t.Logf("server ready and seeded in %v", time.Since(start))

	// Search: "/" focuses the query box; Enter runs the search and puts it
	// in the URL.
	b.do("open the console", chromedp.Navigate(base+"/?since=2h"))
	b.waitFor("the first page", `document.querySelectorAll('#rows tr.event').length === 38`)
	b.waitFor("its histogram and facets", `!document.getElementById('histogram').hasAttribute('aria-busy') &&
		document.querySelector('#facets .facet[data-field="host.name"]') !== null`)
	b.shot("search")
	b.typeKey("/", "Slash", 191)
	b.waitFor("the query box focused by /", `document.activeElement && document.activeElement.id === 'q'`)
	b.do("type a search", chromedp.SendKeys(chromedp.ID("q"), consoleIP+"\n"))
	b.waitFor("the search in the URL", `new URLSearchParams(location.search).get('q') === `+jsString(consoleIP))
	b.waitFor("results", `document.querySelectorAll('#rows tr.event').length === 7`)
	b.waitFor("the histogram", `document.querySelectorAll('#histogram svg.histogram .bars rect:not(.hit)').length > 0`)
	b.waitFor("the total", `/\b7 events\b/.test(document.getElementById('total').textContent)`)
	b.waitFor("facets", `document.querySelector('#facets .facet[data-field="event.dataset"]') !== null`)
	var bars int
	b.eval(`[...document.querySelectorAll('#histogram .bars rect:not(.hit)')].filter(r => +r.getAttribute('height') > 0).length`, &bars)
	if bars == 0 {
		t.Fatal("the histogram shows no bar for 7 matches")
	}
	var datasets []string
	b.eval(rowTexts("#rows tr.event", "td.ds"), &datasets)
	if !contains(datasets, "aws.cloudtrail") || !contains(datasets, "linux.syslog") {
		t.Fatalf("a bare address finds %v, want CloudTrail and syslog events", datasets)
	}

	// An event's full document; a click on a field value filters on it.
	b.do("open the newest sshd event", chromedp.Click(chromedp.CSS(`#rows tr.event:nth-child(2)`)))
	b.waitFor("the event document", `!document.getElementById('detail').hidden && document.querySelector('#detail tr[data-field="event.original"]') !== null`)
	b.shot("event")
	var host string
	b.eval(`document.querySelector('#detail tr[data-field="host.name"] td.value').textContent`, &host)
	b.do("filter for the host", chromedp.Click(chromedp.CSS(`#detail tr[data-field="host.name"] button.add`)))
	wantQ := consoleIP + ` AND host.name:"` + host + `"`
	b.waitFor("the filter in the URL", `new URLSearchParams(location.search).get('q') === `+jsString(wantQ))
	b.waitFor("the filtered results", `document.querySelectorAll('#rows tr.event').length > 0 && `+
		rowTexts("#rows tr.event", "td.host")+`.every(h => h === `+jsString(host)+`) && document.getElementById('detail').hidden`)
	var filtered int
	b.eval(`document.querySelectorAll('#rows tr.event').length`, &filtered)
	if filtered >= 7 {
		t.Fatalf("filtering on host.name kept %d of 7 events", filtered)
	}

	// Pivot: from the source address of an event to everything about it.
	b.do("open an event", chromedp.Click(chromedp.CSS(`#rows tr.event`)))
	b.waitFor("the event document", `document.querySelector('#detail tr[data-field="source.ip"] button.pivot') !== null`)
	b.do("pivot on the address", chromedp.Click(chromedp.CSS(`#detail tr[data-field="source.ip"] button.pivot`)))
	b.waitFor("the pivot query", `new URLSearchParams(location.search).get('q') === 'related.ip:"`+consoleIP+`"'`)
	b.waitFor("every dataset's events about the address", `(() => { const d = `+rowTexts("#rows tr.event", "td.ds")+
		`; return d.length === 7 && d.includes('aws.cloudtrail') && d.includes('linux.syslog'); })()`)
	if loc := b.location(); !strings.Contains(loc, "since=2h") {
		t.Fatalf("the pivot left the selected range: %s", loc)
	}

	// Back returns to the filtered search, forward to the pivot.
	b.do("back", chromedp.NavigateBack())
	b.waitFor("the filtered search again", `new URLSearchParams(location.search).get('q') === `+jsString(wantQ)+
		` && document.getElementById('q').value === `+jsString(wantQ))
	b.do("forward", chromedp.NavigateForward())
	b.waitFor("the pivot again", `document.getElementById('q').value === 'related.ip:"`+consoleIP+`"'`)

	// Dragging across the histogram zooms to that range.
	b.waitFor("the pivot's histogram", `!document.getElementById('histogram').hasAttribute('aria-busy') && document.querySelector('#histogram svg') !== null`)
	var box struct{ X, Y, W, H float64 }
	b.eval(`(() => { const r = document.querySelector('#histogram svg').getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })()`, &box)
	b.drag(box.X+box.W*0.5, box.X+box.W*0.98, box.Y+box.H*0.4)
	b.waitFor("an absolute range in the URL", `(() => { const p = new URLSearchParams(location.search); return p.get('from') && p.get('to') && !p.get('since'); })()`)
	var zoom struct{ From, To string }
	b.eval(`(() => { const p = new URLSearchParams(location.search); return {From: p.get('from'), To: p.get('to')}; })()`, &zoom)
	from, err1 := time.Parse(time.RFC3339, zoom.From)
	to, err2 := time.Parse(time.RFC3339, zoom.To)
	if err1 != nil || err2 != nil || !to.After(from) || to.Sub(from) > 65*time.Minute || time.Since(from) > 2*time.Hour {
		t.Fatalf("zoomed to %v – %v (%v %v)", zoom.From, zoom.To, err1, err2)
	}
	b.waitFor("the custom range shown", `document.getElementById('range').value === 'custom' && document.getElementById('from').value !== ''`)

	// A query that does not parse: the error and where it is.
	var cleared string
	b.eval(`document.getElementById('q').value = ''`, &cleared)
	b.do("type a broken query", chromedp.SendKeys(chromedp.ID("q"), "user.name:(alice\n"))
	b.waitFor("the syntax error", `!document.getElementById('qerror').hidden && /\^/.test(document.querySelector('#qerror pre').textContent)`)

	// Alerts: the list, one alert with its timeline, acknowledged.
	alerts := s.alerts(t, "")
	rootID := alerts["mamori-aws-root-console-login"]
	b.do("open the alerts", chromedp.Click(chromedp.CSS(`header nav a[data-nav="alerts"]`)))
	b.waitFor("the alert list", `document.querySelectorAll('#alert-rows tr.alert').length >= 2`)
	var changed bool
	b.eval(`(() => { const s = document.getElementById('status'); s.value = 'open'; return s.dispatchEvent(new Event('change')); })()`, &changed)
	b.waitFor("the status filter in the URL", `new URLSearchParams(location.search).get('status') === 'open' && document.querySelectorAll('#alert-rows tr.alert').length >= 2`)
	b.shot("alerts")
	b.do("open the root login alert", chromedp.Click(chromedp.CSS(`#alert-rows tr[data-id="`+rootID+`"] a`)))
	b.waitFor("the alert and its timeline", `location.pathname === '/alerts/`+rootID+`' && document.querySelectorAll('#timeline-rows tr.event').length > 0`)
	b.waitFor("the alert's own event marked", `document.querySelectorAll('#timeline-rows tr.event.marked').length === 1`)
	b.shot("alert")
	b.do("acknowledge", chromedp.Click(chromedp.ID("ack")))
	b.waitFor("the acknowledged state", `document.querySelector('.alert-detail .badge.st-acknowledged') !== null && document.getElementById('ack') === null`)
	if st := s.alerts(t, rootID)["status"]; st != "acknowledged" {
		t.Fatalf("the server says the alert is %q after acknowledging it in the console", st)
	}

	// Sources: every dataset, the parse failure with its raw line.
	b.do("open the sources", chromedp.Click(chromedp.CSS(`header nav a[data-nav="sources"]`)))
	b.waitFor("the datasets", `document.querySelector('#datasets tr[data-dataset="linux.syslog"]') !== null && document.querySelector('#datasets tr[data-dataset="aws.cloudtrail"]') !== null`)
	b.waitFor("the parse failure example", `[...document.querySelectorAll('#datasets tr.examples pre')].some(p => p.textContent.includes('truncated record'))`)
	b.waitFor("the listener", `document.querySelectorAll('#listeners tbody tr').length > 0`)
	b.do("show the failure examples", chromedp.Click(chromedp.CSS(`#datasets tr.examples summary`)))
	b.shot("sources")
	t.Logf("console test took %v", time.Since(start))
}

// TestConsoleEscapesLogData: a log line holding markup is shown as text —
// in the results, the document and the facets — and runs nothing.
func TestConsoleEscapesLogData(t *testing.T) {
	b := newBrowser(t)
	s := startServer(t, "")
	payload := `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`
	msg := fmt.Sprintf(`{"@timestamp":"%s","message":%s,"host":{"name":%s},"user":{"name":"x\"><b>bold</b>"}}`,
		time.Now().UTC().Format(time.RFC3339), jsString(payload), jsString("<b>host</b>"))
	if code, err := s.post(context.Background(), "json", []string{msg}); err != nil || code != http.StatusOK {
		t.Fatalf("post: %d %v", code, err)
	}
	if n := s.waitCount("", 1, 20*time.Second); n != 1 {
		t.Fatalf("stored %d events", n)
	}
	b.do("search", chromedp.Navigate("http://"+s.http+"/?"+url.Values{"q": {"pwned"}, "since": {"1h"}}.Encode()))
	b.waitFor("the event", `document.querySelectorAll('#rows tr.event').length === 1`)
	b.waitFor("facets", `document.querySelector('#facets .facet[data-field="host.name"]') !== null`)
	b.do("open it", chromedp.Click(chromedp.CSS(`#rows tr.event`)))
	b.waitFor("its document", `document.querySelector('#detail tr[data-field="message"]') !== null`)
	var got struct {
		Title, Summary, Message, Host string
		Markup                        int
	}
	b.eval(`({Title: document.title,
		Summary: document.querySelector('#rows td.summary').textContent,
		Message: document.querySelector('#detail tr[data-field="message"] td.value').textContent,
		Host: document.querySelector('#facets .facet[data-field="host.name"] .fv').textContent,
		Markup: document.querySelectorAll('main img, main b, main script').length})`, &got)
	if got.Title == "pwned" || got.Markup != 0 || !strings.Contains(got.Summary, "<img src=x") ||
		got.Message != payload || got.Host != "<b>host</b>" {
		t.Fatalf("log data was not shown as text: %+v", got)
	}
}
