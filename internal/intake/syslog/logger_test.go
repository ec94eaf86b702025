package syslog

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sendFileLines writes n lines, each with a unique token, to a file and
// returns its path and the lines.
func sendFileLines(t *testing.T, n int, label string) (string, []string) {
	t.Helper()
	lines := make([]string, n)
	var b strings.Builder
	for i := range lines {
		lines[i] = fmt.Sprintf("%s line %04d token=%s-%d-%04d user=café path=/東京/ü x=1", label, i, label, os.Getpid(), i)
		b.WriteString(lines[i])
		b.WriteByte('\n')
	}
	p := filepath.Join(t.TempDir(), "input.log")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, lines
}

// checkEachOnce asserts that every line arrived in exactly one record, whole:
// the record ends with the line, and match accepts the record as a whole.
func checkEachOnce(t *testing.T, records []string, lines []string, match func(rec, line string) bool) {
	t.Helper()
	byToken := map[string]int{}
	for i, l := range lines {
		byToken[tokenOf(l)] = i
	}
	seen := make([]int, len(lines))
	broken := 0
	for _, r := range records {
		tok := tokenOf(r)
		i, ok := byToken[tok]
		if !ok {
			continue // a sender's own message, not one of ours
		}
		seen[i]++
		if !match(r, lines[i]) {
			broken++
			if broken <= 5 {
				t.Errorf("record not intact:\n got %q\nline %q", r, lines[i])
			}
		}
	}
	missing, dup := 0, 0
	for i, n := range seen {
		switch {
		case n == 0:
			missing++
			if missing <= 5 {
				t.Errorf("line %d never arrived: %q", i, lines[i])
			}
		case n > 1:
			dup++
			if dup <= 5 {
				t.Errorf("line %d arrived %d times", i, n)
			}
		}
	}
	if missing+dup+broken > 0 {
		t.Errorf("of %d lines: %d missing, %d duplicated, %d not intact", len(lines), missing, dup, broken)
	}
}

var tokenPattern = regexp.MustCompile(`token=(\S+)`)

func tokenOf(s string) string {
	if m := tokenPattern.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

func countTokens(records []string, label string) int {
	n := 0
	for _, r := range records {
		if strings.Contains(r, "token="+label+"-") {
			n++
		}
	}
	return n
}

// util-linux logger, over UDP and TCP, in both syslog formats, with both TCP
// framings.
func TestLoggerSends(t *testing.T) {
	logger := requireSender(t, "logger")
	rfc5424 := regexp.MustCompile(`^<156>1 \d{4}-\d\d-\d\dT\S+ \S+ mamori-test - - \[timeQuality[^\]]*\] (.*)$`)
	rfc3164 := regexp.MustCompile(`^<156>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ mamori-test: (.*)$`)

	for _, tc := range []struct {
		name   string
		udp    bool
		format string
		octet  bool
	}{
		{name: "udp rfc5424", udp: true, format: "--rfc5424"},
		{name: "udp rfc3164", udp: true, format: "--rfc3164"},
		{name: "tcp rfc5424 LF", format: "--rfc5424"},
		{name: "tcp rfc3164 LF", format: "--rfc3164"},
		{name: "tcp rfc5424 octet-count", format: "--rfc5424", octet: true},
		{name: "tcp rfc3164 octet-count", format: "--rfc3164", octet: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &collector{}
			var addrPort int
			args := []string{"--server", "127.0.0.1", "--tag", "mamori-test", "-p", "local3.warning", tc.format}
			if tc.udp {
				l, _ := startUDP(t, Config{FlushInterval: 20 * time.Millisecond}, sink)
				addrPort = port(l.Addr())
				args = append(args, "--udp")
			} else {
				l, _ := startTCP(t, Config{FlushInterval: 20 * time.Millisecond}, sink)
				addrPort = port(l.Addr())
				args = append(args, "--tcp")
			}
			if tc.octet {
				args = append(args, "--octet-count")
			}
			file, lines := sendFileLines(t, 200, "logger")
			args = append(args, "--port", strconv.Itoa(addrPort), "-f", file)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := exec.CommandContext(ctx, logger, args...).CombinedOutput()
			if err != nil {
				t.Fatalf("logger %s: %v\n%s", strings.Join(args, " "), err, out)
			}
			waitFor(t, 10*time.Second, "200 records", func() bool { return len(sink.records()) >= len(lines) })

			re := rfc5424
			if tc.format == "--rfc3164" {
				re = rfc3164
			}
			checkEachOnce(t, sink.messages(), lines, func(rec, line string) bool {
				m := re.FindStringSubmatch(rec)
				return m != nil && m[1] == line
			})
		})
	}
}
