package syslog_test

import (
	"bufio"
	"github.com/mamori-sec/mamori/internal/parse/syslog"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/testutil"
)

var ref = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func utc(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
	return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
}

func TestParse(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	tests := []struct {
		name string
		line string
		loc  *time.Location
		want syslog.Message
	}{
		{
			name: "rfc5424 with NILVALUEs and BOM",
			line: "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8",
			want: syslog.Message{Format: syslog.FormatRFC5424, Priority: 34, HasPriority: true, Facility: 4, Severity: 2, Version: 1,
				Timestamp: utc(2003, 10, 11, 22, 14, 15, 3e6), HasTimestamp: true,
				Hostname: "mymachine.example.com", AppName: "su", MsgID: "ID47",
				Content: "'su root' failed for lonvick on /dev/pts/8", Body: "'su root' failed for lonvick on /dev/pts/8"},
		},
		{
			name: "rfc5424 microseconds and offset",
			line: "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
			want: syslog.Message{Format: syslog.FormatRFC5424, Priority: 165, HasPriority: true, Facility: 20, Severity: 5, Version: 1,
				Timestamp: utc(2003, 8, 24, 12, 14, 15, 3000), HasTimestamp: true,
				Hostname: "192.0.2.1", AppName: "myproc", ProcID: "8710",
				Content: "%% It's time to make the do-nuts.", Body: "%% It's time to make the do-nuts."},
		},
		{
			name: "rfc5424 structured data with escapes and no message",
			line: `<165>1 2003-10-11T22:14:15.003Z host app - ID47 [exampleSDID@32473 iut="3" note="a \"b\" \\ c\]"][examplePriority@32473 class="high"]`,
			want: syslog.Message{Format: syslog.FormatRFC5424, Priority: 165, HasPriority: true, Facility: 20, Severity: 5, Version: 1,
				Timestamp: utc(2003, 10, 11, 22, 14, 15, 3e6), HasTimestamp: true,
				Hostname: "host", AppName: "app", MsgID: "ID47",
				StructuredData: []syslog.SDElement{
					{ID: "exampleSDID@32473", Params: []syslog.SDParam{{"iut", "3"}, {"note", `a "b" \ c]`}}},
					{ID: "examplePriority@32473", Params: []syslog.SDParam{{"class", "high"}}},
				}},
		},
		{
			name: "rfc5424 nil timestamp",
			line: "<14>1 - - - - - - hello",
			want: syslog.Message{Format: syslog.FormatRFC5424, Priority: 14, HasPriority: true, Facility: 1, Severity: 6, Version: 1,
				Content: "hello", Body: "hello"},
		},
		{
			name: "rfc3164 with pid",
			line: "<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed",
			want: syslog.Message{Format: syslog.FormatRFC3164, Priority: 34, HasPriority: true, Facility: 4, Severity: 2,
				Timestamp: utc(2023, 10, 11, 22, 14, 15, 0), HasTimestamp: true, ZoneAssumed: true,
				Hostname: "mymachine", AppName: "su", ProcID: "230",
				Content: "su[230]: 'su root' failed", Body: "'su root' failed"},
		},
		{
			name: "file line without PRI, space-padded day, zone from location",
			line: "Feb  5 17:32:18 web01 sshd[1042]: Accepted publickey for alice",
			loc:  tokyo,
			want: syslog.Message{Format: syslog.FormatRFC3164,
				Timestamp: time.Date(2024, 2, 5, 17, 32, 18, 0, tokyo), HasTimestamp: true, ZoneAssumed: true,
				Hostname: "web01", AppName: "sshd", ProcID: "1042",
				Content: "sshd[1042]: Accepted publickey for alice", Body: "Accepted publickey for alice"},
		},
		{
			name: "no tag",
			line: "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
			want: syslog.Message{Format: syslog.FormatRFC3164, Priority: 13, HasPriority: true, Facility: 1, Severity: 5,
				Timestamp: utc(2024, 2, 5, 17, 32, 18, 0), HasTimestamp: true, ZoneAssumed: true,
				Hostname: "10.0.0.99", Content: "Use the BFG!", Body: "Use the BFG!"},
		},
		{
			name: "no hostname, tag only",
			line: "<13>Feb  5 17:32:18 su: hello",
			want: syslog.Message{Format: syslog.FormatRFC3164, Priority: 13, HasPriority: true, Facility: 1, Severity: 5,
				Timestamp: utc(2024, 2, 5, 17, 32, 18, 0), HasTimestamp: true, ZoneAssumed: true,
				AppName: "su", Content: "su: hello", Body: "hello"},
		},
		{
			name: "rsyslog high precision",
			line: "2018-08-14T14:30:02.203151+02:00 linux-sqrz systemd[4179]: Stopped target Basic System.",
			want: syslog.Message{Format: syslog.FormatRFC3164,
				Timestamp: utc(2018, 8, 14, 12, 30, 2, 203151000), HasTimestamp: true,
				Hostname: "linux-sqrz", AppName: "systemd", ProcID: "4179",
				Content: "systemd[4179]: Stopped target Basic System.", Body: "Stopped target Basic System."},
		},
		{
			name: "relayed with zone abbreviation and year",
			line: "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% do-nuts",
			want: syslog.Message{Format: syslog.FormatRFC3164, Priority: 165, HasPriority: true, Facility: 20, Severity: 5,
				Timestamp: utc(1987, 8, 24, 5, 34, 0, 0), HasTimestamp: true, ZoneAssumed: true,
				Hostname: "mymachine", AppName: "myproc", ProcID: "10",
				Content: "myproc[10]: %% do-nuts", Body: "%% do-nuts"},
		},
		{
			name: "relayed with leading year and numeric zone",
			line: "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org sched[0]: That's All Folks!",
			want: syslog.Message{Format: syslog.FormatRFC3164, Priority: 0, HasPriority: true,
				Timestamp: utc(1990, 10, 22, 16, 52, 1, 0), HasTimestamp: true,
				Hostname: "scapegoat.dmz.example.org", AppName: "sched", ProcID: "0",
				Content: "sched[0]: That's All Folks!", Body: "That's All Folks!"},
		},
		{
			name: "CEF after hostname is not a tag",
			line: "<134>Mar  1 11:00:00 dsm01 CEF:0|Trend Micro|Deep Security Manager|20.0|600|User Signed In|3|src=10.0.0.1",
			want: syslog.Message{Format: syslog.FormatRFC3164, Priority: 134, HasPriority: true, Facility: 16, Severity: 6,
				Timestamp: utc(2024, 3, 1, 11, 0, 0, 0), HasTimestamp: true, ZoneAssumed: true,
				Hostname: "dsm01", Content: "CEF:0|Trend Micro|Deep Security Manager|20.0|600|User Signed In|3|src=10.0.0.1",
				Body: "CEF:0|Trend Micro|Deep Security Manager|20.0|600|User Signed In|3|src=10.0.0.1"},
		},
		{
			name: "PRI without header",
			line: "<189>date=2024-01-01 time=10:00:00 devname=\"FG\"",
			want: syslog.Message{Priority: 189, HasPriority: true, Facility: 23, Severity: 5,
				Content: "date=2024-01-01 time=10:00:00 devname=\"FG\"", Body: "date=2024-01-01 time=10:00:00 devname=\"FG\""},
		},
		{
			name: "not syslog at all",
			line: "hello world",
			want: syslog.Message{Content: "hello world", Body: "hello world"},
		},
		{
			name: "invalid PRI is text",
			line: "<999>Oct 11 22:14:15 host x",
			want: syslog.Message{Content: "<999>Oct 11 22:14:15 host x", Body: "<999>Oct 11 22:14:15 host x"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := syslog.Parse([]byte(tt.line), ref, tt.loc)
			if !got.Timestamp.Equal(tt.want.Timestamp) {
				t.Errorf("Timestamp = %v, want %v", got.Timestamp, tt.want.Timestamp)
			}
			got.Timestamp, tt.want.Timestamp = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("syslog.Parse(%q)\n got %+v\nwant %+v", tt.line, got, tt.want)
			}
		})
	}
}

// A BSD timestamp takes the latest year that does not put it more than a
// day after its receive time.
func TestBSDYearNotInTheFuture(t *testing.T) {
	tests := []struct {
		line     string
		received time.Time
		want     time.Time
	}{
		{"Dec 31 23:59:58 h x: y", utc(2025, 1, 1, 0, 0, 5, 0), utc(2024, 12, 31, 23, 59, 58, 0)},
		{"Jan  1 00:00:01 h x: y", utc(2024, 12, 31, 23, 59, 59, 0), utc(2025, 1, 1, 0, 0, 1, 0)},
		{"Jun 15 10:00:00 h x: y", utc(2024, 6, 15, 11, 0, 0, 0), utc(2024, 6, 15, 10, 0, 0, 0)},
		{"Feb 29 10:00:00 h x: y", utc(2026, 3, 1, 0, 0, 0, 0), utc(2024, 2, 29, 10, 0, 0, 0)},
		// Nearer next March, but a log is not from the future.
		{"Mar  1 10:00:00 h x: y", utc(2026, 11, 23, 0, 0, 0, 0), utc(2026, 3, 1, 10, 0, 0, 0)},
		// A clock a few hours ahead, just after midnight on New Year's Eve.
		{"Jan  1 03:00:00 h x: y", utc(2026, 12, 31, 23, 0, 0, 0), utc(2027, 1, 1, 3, 0, 0, 0)},
		{"Nov 25 10:00:00 h x: y", utc(2026, 11, 23, 0, 0, 0, 0), utc(2025, 11, 25, 10, 0, 0, 0)},
	}
	for _, tt := range tests {
		got := syslog.Parse([]byte(tt.line), tt.received, nil)
		if !got.HasTimestamp || !got.Timestamp.Equal(tt.want) {
			t.Errorf("syslog.Parse(%q) received %v: timestamp %v (%v), want %v", tt.line, tt.received, got.Timestamp, got.HasTimestamp, tt.want)
		}
	}
}

func TestFacilitySeverityNames(t *testing.T) {
	m := syslog.Parse([]byte("<191>Oct 11 22:14:15 h t: x"), ref, nil)
	if syslog.FacilityName(m.Facility) != "local7" || syslog.SeverityName(m.Severity) != "debug" {
		t.Errorf("<191>: facility %d %q severity %d %q", m.Facility, syslog.FacilityName(m.Facility), m.Severity, syslog.SeverityName(m.Severity))
	}
	if syslog.FacilityName(24) != "" || syslog.SeverityName(-1) != "" {
		t.Error("out-of-range codes must have no name")
	}
}

// TestCorpus parses every real sample line: each must yield a header with
// a timestamp, and where Elastic's expected documents exist, the same
// time, host, process and message.
func TestCorpus(t *testing.T) {
	gmtMinus2 := time.FixedZone("GMT-0200", -2*3600)
	type want struct {
		ts      string // RFC 3339
		host    string
		process string
		pid     string
		body    string
	}
	cases := []struct {
		file  string
		loc   *time.Location
		wants []want
	}{
		{"syslog/test-tz-offset.log", gmtMinus2, []want{
			{"1986-04-25T19:23:45.101-02:00", "rmbkmonitor04", "shutdown", "2649", "shutting down for system halt"},
			{"1986-04-25T19:23:45.388424-02:00", "rmbkmonitor04", "thermald", "", "constraint_0_power_limit_uw exceeded."},
			{"2019-06-14T10:40:20.912134-02:00", "localhost", "sudo", "", "pam_unix(sudo-i:session): session opened for user root by userauth3(uid=0)"},
		}},
		{"syslog/test-suse-syslog.log", gmtMinus2, []want{
			{"2018-08-14T10:30:02.203151-02:00", "linux-sqrz", "systemd", "4179", "Stopped target Basic System."},
			{"2018-08-14T10:30:02.203251-02:00", "linux-sqrz", "systemd", "4179", "Stopped target Paths."},
		}},
		{"syslog/test-preserve-event-original.log", nil, []want{
			{"2019-06-14T10:40:20.912134Z", "localhost", "sudo", "", "pam_unix(sudo-i:session): session opened for user root by userauth3(uid=0)"},
		}},
		{"syslog/rfc5424-examples.log", nil, nil},
		{"syslog/rfc3164-examples.log", nil, nil},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			lines := readLines(t, testutil.CorpusFile(t, c.file))
			if c.wants != nil && len(lines) != len(c.wants) {
				t.Fatalf("%d lines, want %d", len(lines), len(c.wants))
			}
			for i, line := range lines {
				m := syslog.Parse([]byte(line), ref, c.loc)
				if !m.HeaderFound() || !m.HasTimestamp {
					t.Errorf("line %d: no header/timestamp: %+v", i+1, m)
					continue
				}
				if c.wants == nil {
					continue
				}
				w := c.wants[i]
				wt, err := time.Parse(time.RFC3339Nano, w.ts)
				if err != nil {
					t.Fatal(err)
				}
				if !m.Timestamp.Equal(wt) || m.Hostname != w.host || m.AppName != w.process || m.ProcID != w.pid || m.Body != w.body {
					t.Errorf("line %d: got ts=%v host=%q app=%q pid=%q body=%q\nwant %+v", i+1, m.Timestamp, m.Hostname, m.AppName, m.ProcID, m.Body, w)
				}
			}
		})
	}
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
	sc.Buffer(make([]byte, 64*1024), 1<<20)
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

func FuzzSyslog(f *testing.F) {
	for _, s := range []string{
		"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed",
		`<165>1 2003-10-11T22:14:15.003Z h app - ID47 [a@1 x="\"y\\"][b z="]"] msg`,
		"<34>Oct 11 22:14:15 mymachine su[1]: x",
		"Feb  5 17:32:18 host tag: x",
		"<0>1990 Oct 22 10:52:01 TZ-6 scapegoat sched[0]: x",
		"<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: x",
		"2018-08-14T14:30:02.203151+02:00 linux-sqrz systemd[4179]: x",
		"<1>", "<", "<191>1 ", "Feb 29 1:2:3",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m := syslog.Parse(line, ref, nil)
		if !m.HeaderFound() && m.Body == "" && len(line) > 0 && !m.HasPriority {
			// Without a header the text must be kept.
			trimmed := len(line)
			for trimmed > 0 && (line[trimmed-1] == '\n' || line[trimmed-1] == '\r' || line[trimmed-1] == 0) {
				trimmed--
			}
			if trimmed > 0 {
				t.Fatalf("no header and no body for %q", line)
			}
		}
		if m.HasPriority && (m.Priority < 0 || m.Priority > 191 || m.Facility != m.Priority>>3 || m.Severity != m.Priority&7) {
			t.Fatalf("bad priority %+v", m)
		}
	})
}

func BenchmarkParse3164(b *testing.B) {
	line := []byte("<38>Mar  1 11:59:58 web01 sshd[1042]: Accepted publickey for alice from 192.0.2.10 port 52144 ssh2: ED25519 SHA256:abc")
	b.ReportAllocs()
	for b.Loop() {
		_ = syslog.Parse(line, ref, nil)
	}
}

func BenchmarkParse5424(b *testing.B) {
	line := []byte(`<165>1 2024-03-01T11:59:58.003Z web01.example.com evntslog 1042 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry`)
	b.ReportAllocs()
	for b.Loop() {
		_ = syslog.Parse(line, ref, nil)
	}
}
