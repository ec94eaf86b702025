// Package e2e runs the real mamori binary: real sockets, real senders, real
// crashes.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "mamori-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	binary = filepath.Join(dir, "mamori")
	build := exec.Command("go", "build", "-o", binary, "../cmd/mamori")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build mamori:", err)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is one running `mamori serve`.
type server struct {
	t       *testing.T
	dataDir string
	http    string // host:port
	udp     string
	tcp     string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	done    chan struct{}
}

// freePort returns a port free on 127.0.0.1 for both TCP and UDP.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 50; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", port))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// startServer starts mamori on fresh ports over dataDir ("" for a new one).
func startServer(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	// A port found free may be taken by someone else before mamori binds
	// it: such a start is tried again on other ports.
	for attempt := 1; ; attempt++ {
		s, busy := tryStartServer(t, dataDir, extra)
		if s != nil {
			return s
		}
		if !busy || attempt == 3 {
			t.Fatalf("mamori did not start")
		}
		t.Logf("a port was taken before mamori bound it; starting again on others")
	}
}

// tryStartServer starts mamori on fresh ports and waits until it is
// healthy. It returns nil and busy when mamori exited because a port was
// in use.
func tryStartServer(t *testing.T, dataDir string, extra []string) (*server, bool) {
	t.Helper()
	s := &server{t: t, dataDir: dataDir,
		http: fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		log:  &bytes.Buffer{}, done: make(chan struct{})}
	sp := freePort(t)
	s.udp = fmt.Sprintf("127.0.0.1:%d", sp)
	s.tcp = s.udp
	args := append([]string{"serve", "--data", dataDir, "--http", s.http, "--syslog-udp", s.udp, "--syslog-tcp", s.tcp}, extra...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Stdout = s.log
	s.cmd.Stderr = s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.done)
	}()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + s.http + "/api/v1/health")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Cleanup(func() { s.stop() })
				return s, false
			}
		}
		select {
		case <-s.done:
			if strings.Contains(s.log.String(), "address already in use") {
				return nil, true
			}
			t.Fatalf("mamori exited at start:\n%s", s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Cleanup(func() { s.stop() })
	t.Fatalf("mamori did not become healthy:\n%s", s.log.String())
	return nil, false
}

// stop sends SIGTERM and waits for a clean exit.
func (s *server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		s.t.Errorf("mamori did not stop on SIGTERM:\n%s", s.log.String())
	}
}

// kill sends SIGKILL: a crash.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

type searchResult struct {
	Events []*event.Event `json:"events"`
	Next   string         `json:"next"`
	Total  *int64         `json:"total"`
}

// search runs one search page through the API.
func (s *server) search(q string, params map[string]string) (searchResult, error) {
	v := url.Values{"q": {q}}
	for k, val := range params {
		v.Set(k, val)
	}
	var r searchResult
	resp, err := http.Get("http://" + s.http + "/api/v1/search?" + v.Encode())
	if err != nil {
		return r, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return r, fmt.Errorf("search %q: %s: %s", q, resp.Status, body)
	}
	return r, json.Unmarshal(body, &r)
}

// count returns the total number of events matching q.
func (s *server) count(q string) (int64, error) {
	r, err := s.search(q, map[string]string{"limit": "1", "count": "exact"})
	if err != nil {
		return 0, err
	}
	if r.Total == nil {
		return 0, fmt.Errorf("no total in response")
	}
	return *r.Total, nil
}

// waitCount polls until q matches want events or the deadline passes.
func (s *server) waitCount(q string, want int64, within time.Duration) int64 {
	s.t.Helper()
	deadline := time.Now().Add(within)
	var n int64
	for {
		var err error
		n, err = s.count(q)
		if err == nil && n >= want {
			return n
		}
		if time.Now().After(deadline) {
			if err != nil {
				s.t.Logf("last count error: %v", err)
			}
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// all pages through every event matching q (oldest first).
func (s *server) all(q string) ([]*event.Event, error) {
	var out []*event.Event
	cursor := ""
	for {
		p := map[string]string{"limit": "10000", "order": "asc", "count": "false"}
		if cursor != "" {
			p["cursor"] = cursor
		}
		r, err := s.search(q, p)
		if err != nil {
			return nil, err
		}
		out = append(out, r.Events...)
		if r.Next == "" {
			return out, nil
		}
		cursor = r.Next
	}
}

// post sends lines to the intake API and returns the HTTP status.
func (s *server) post(ctx context.Context, dataset string, lines []string) (int, error) {
	body := strings.Join(lines, "\n") + "\n"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.http+"/api/v1/intake/"+dataset, strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// runMamori runs a mamori command and returns its exit code and output.
func runMamori(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errOut, stdin
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("run mamori %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return code, out.String(), errOut.String()
}
