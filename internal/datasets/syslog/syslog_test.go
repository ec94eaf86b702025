package syslog_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/datasets/syslog"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

var (
	received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	plus9    = time.FixedZone("+09:00", 9*3600)
)

// parser returns the syslog dataset as the registry wires it, so that CEF
// and LEEF bodies are handed on.
func parser(t testing.TB, loc *time.Location) dataset.Parser {
	t.Helper()
	ds, ok := datasets.Builtin(datasets.Options{Location: loc}).Lookup(syslog.Name)
	if !ok {
		t.Fatal("syslog dataset not registered")
	}
	return ds.Parser
}

func TestGolden(t *testing.T) {
	p := parser(t, plus9)
	testutil.RunParserCases(t, "testdata", p, received)
}

func parseOne(t *testing.T, p dataset.Parser, line string) *event.Event {
	t.Helper()
	evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

// A CEF body no specific dataset claims (Acme is no vendor mamori knows)
// goes to the generic cef dataset with the syslog header's fields.
func TestCEFBodyKeepsSyslogHeader(t *testing.T) {
	ev := parseOne(t, parser(t, nil), `<134>Mar  1 11:59:01 web-01 dsa: CEF:0|Acme|Edge Firewall|20.0|20|Log for TCP Port Scan|5|act=Reset src=192.0.2.10 dst=10.0.0.5 proto=TCP dpt=22`)
	want := map[string]any{
		event.FieldDataset:    "cef",
		event.FieldTimestamp:  time.Date(2024, 3, 1, 11, 59, 1, 0, time.UTC),
		"host.name":           "web-01",
		"log.syslog.priority": int64(134),
		"log.syslog.appname":  "dsa",
		"source.ip":           "192.0.2.10",
		"destination.port":    int64(22),
		"event.action":        "Reset",
		"network.transport":   "tcp",
	}
	for f, w := range want {
		if got, _ := ev.Get(f); !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
	if ev.Has("process.name") {
		t.Errorf("process.name = %q: the syslog tag is not the CEF event's process", ev.String("process.name"))
	}
}

func TestCEFAfterHostnameIsNotATag(t *testing.T) {
	ev := parseOne(t, parser(t, nil), `<134>Mar  1 11:59:00 dsm01 CEF:0|Acme|Console|20.0|600|User Signed In|3|suser=admin`)
	if ev.String(event.FieldDataset) != "cef" || ev.String("source.user.name") != "admin" || ev.Has("log.syslog.appname") {
		t.Errorf("got dataset %q user %q appname %q", ev.String(event.FieldDataset), ev.String("source.user.name"), ev.String("log.syslog.appname"))
	}
}

func TestBrokenCEFBodyStaysSyslog(t *testing.T) {
	ev := parseOne(t, parser(t, nil), `<134>Mar  1 11:59:04 dsm01 CEF:0|broken header`)
	if ev.Has(event.FieldDataset) || ev.String("host.name") != "dsm01" {
		t.Errorf("dataset %q host %q", ev.String(event.FieldDataset), ev.String("host.name"))
	}
}

func TestZoneAssumedSetsTimezone(t *testing.T) {
	p := parser(t, plus9)
	ev := parseOne(t, p, "Mar  1 11:58:02 web01 systemd[1]: Started.")
	if got := ev.Time(); !got.Equal(time.Date(2024, 3, 1, 2, 58, 2, 0, time.UTC)) {
		t.Errorf("@timestamp = %v", got)
	}
	if ev.String("event.timezone") != "+09:00" {
		t.Errorf("event.timezone = %q", ev.String("event.timezone"))
	}
	ev = parseOne(t, p, "<34>1 2003-10-11T22:14:15.003Z host app - - - zoned")
	if ev.Has("event.timezone") {
		t.Error("event.timezone set for a timestamp that had a zone")
	}
}

func TestReferenceClockWhenNoReceiveTime(t *testing.T) {
	now := func() time.Time { return time.Date(2025, 1, 1, 0, 0, 10, 0, time.UTC) }
	p := syslog.New(syslog.Options{Now: now}).Parser
	evs, err := p.Parse(dataset.Record{Data: []byte("Dec 31 23:59:50 h t: x")})
	if err != nil || len(evs) != 1 {
		t.Fatal(err)
	}
	if got := evs[0].Time(); got.Year() != 2024 {
		t.Errorf("@timestamp = %v, want year 2024 from the injected clock", got)
	}
}

func TestEmptyRecord(t *testing.T) {
	evs, err := parser(t, nil).Parse(dataset.Record{Data: []byte("")})
	if err != nil || len(evs) != 0 {
		t.Errorf("empty record: %d events, %v", len(evs), err)
	}
}

// TestCorpus runs every line of the syslog samples and compares time,
// host, process and message with Elastic's expected documents.
func TestCorpus(t *testing.T) {
	gmtMinus2 := time.FixedZone("GMT-0200", -2*3600)
	files, err := filepath.Glob(filepath.Join(testutil.SharedDir(t), "corpus", "syslog", "*.log"))
	if err != nil || len(files) == 0 {
		t.Skipf("no syslog samples: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			loc := time.UTC
			if cfg, err := os.ReadFile(path + "-config.yml"); err == nil && strings.Contains(string(cfg), "GMT-0200") {
				loc = gmtMinus2
			}
			p := parser(t, loc)
			expected := readExpected(t, path+"-expected.json")
			for i, line := range readLines(t, path) {
				ev := parseOne(t, p, line)
				if ev.Time().IsZero() {
					t.Errorf("line %d: no @timestamp", i+1)
				}
				if expected == nil {
					continue
				}
				if i >= len(expected) {
					t.Fatalf("line %d has no expected document", i+1)
				}
				want := expected[i]
				// Elasticsearch keeps milliseconds; mamori keeps what the
				// line has.
				if !ev.Time().Truncate(time.Millisecond).Equal(want.Time()) {
					t.Errorf("line %d: @timestamp %v, Elastic %v", i+1, ev.Time(), want.Time())
				}
				for _, f := range []string{"host.hostname", "process.name", "process.pid", "message"} {
					g, _ := ev.Get(f)
					w, _ := want.Get(f)
					if !reflect.DeepEqual(g, w) {
						t.Errorf("line %d: %s = %#v, Elastic %#v", i+1, f, g, w)
					}
				}
			}
		})
	}
}

func readExpected(t *testing.T, path string) []*event.Event {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var doc struct {
		Expected []json.RawMessage `json:"expected"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	out := make([]*event.Event, len(doc.Expected))
	for i, raw := range doc.Expected {
		out[i] = event.New(16)
		if err := out[i].UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if sc.Text() != "" {
			out = append(out, sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func FuzzSyslogDataset(f *testing.F) {
	for _, s := range []string{
		"<134>Mar  1 11:59:01 web-01 dsa: CEF:0|Trend Micro|Deep Security Agent|1|20|x|5|src=1.2.3.4",
		"<14>1 2024-03-01T11:59:03Z fw01 q - - - LEEF:2.0|V|P|1|41|^|src=10.0.1.8",
		`<165>1 2003-10-11T22:14:15.003Z h a - ID47 [x@1 a="b"] msg`, "plain",
	} {
		f.Add([]byte(s))
	}
	p := parser(f, nil)
	f.Fuzz(func(t *testing.T, line []byte) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			t.Fatalf("syslog never fails, got %v", err)
		}
		for _, ev := range evs {
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	p := parser(b, nil)
	rec := dataset.Record{Data: []byte("<38>Mar  1 11:59:58 web01 sshd[1042]: Accepted publickey for alice from 192.0.2.10 port 52144 ssh2"), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCEFInSyslog(b *testing.B) {
	p := parser(b, nil)
	rec := dataset.Record{Data: []byte(`<134>Mar  1 11:59:01 web-01 CEF:0|Trend Micro|Deep Security Agent|10.0.1.1234|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset dmac=00:50:56:00:00:01 smac=00:50:56:00:00:02 src=192.0.2.10 dst=10.0.0.5 in=60 proto=TCP spt=44521 dpt=22 cnt=1`), Received: received}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// A dataset that claims a message gets the whole record, header included;
// when it fails, the message stays syslog and says why.
func TestClaimedMessages(t *testing.T) {
	var got []byte
	claim := func(l dataset.Line) (dataset.Dataset, bool) {
		if l.App != "sshd" {
			return dataset.Dataset{}, false
		}
		return dataset.Dataset{Name: "linux.syslog", Parser: dataset.ParserFunc(func(rec dataset.Record) ([]*event.Event, error) {
			got = rec.Data
			if strings.Contains(string(rec.Data), "garbled") {
				return nil, errors.New("linux.syslog: garbled")
			}
			ev := event.New(2)
			ev.Set("event.action", "ssh_login")
			return []*event.Event{ev}, nil
		})}, true
	}
	p := syslog.New(syslog.Options{Claim: claim}).Parser

	line := "<38>Oct 11 22:14:15 host1 sshd[42]: Accepted password for bob"
	evs, err := p.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse = %v, %v", evs, err)
	}
	if string(got) != line {
		t.Errorf("claiming dataset got %q, want the whole record", got)
	}
	if ds := evs[0].String(event.FieldDataset); ds != "linux.syslog" {
		t.Errorf("event.dataset = %q", ds)
	}

	evs, err = p.Parse(dataset.Record{Data: []byte("<38>Oct 11 22:14:15 host1 sshd[42]: garbled"), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(garbled) = %v, %v", evs, err)
	}
	if evs[0].String(event.FieldError) != "linux.syslog: garbled" || evs[0].String("host.name") != "host1" ||
		evs[0].String(event.FieldMessage) != "garbled" {
		t.Errorf("fallback event = %v", evs[0])
	}
}

func TestJSONBody(t *testing.T) {
	for _, tc := range []struct {
		in, body string
		header   bool
	}{
		{`{"a":1}`, `{"a":1}`, false},
		{"  \t{\"a\":1}", `{"a":1}`, false},
		{`<14>Nov 20 10:00:00 relay01 aws: {"eventVersion":"1.09"}`, `{"eventVersion":"1.09"}`, true},
		{`<14>Nov 20 10:00:00 relay01 aws: not json`, `<14>Nov 20 10:00:00 relay01 aws: not json`, false},
		{`plain text`, `plain text`, false},
	} {
		body, m := syslog.JSONBody([]byte(tc.in), received, time.UTC)
		if string(body) != tc.body || (m != nil) != tc.header {
			t.Errorf("JSONBody(%q) = %q, header %v; want %q, %v", tc.in, body, m != nil, tc.body, tc.header)
		}
		if m != nil && m.Hostname != "relay01" {
			t.Errorf("JSONBody(%q): header host %q", tc.in, m.Hostname)
		}
	}
}
