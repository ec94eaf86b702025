package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/intake"
	"github.com/mamori-sec/mamori/internal/metrics"
)

// sink records batches, or fails with err.
type sink struct {
	mu      sync.Mutex
	batches []intake.Batch
	err     error
}

func (s *sink) Write(_ context.Context, b intake.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.batches = append(s.batches, b)
	return nil
}

func newServer(sk *sink, maxBody int64) *httptest.Server {
	s := &Server{Sink: sk, Datasets: datasets.Builtin(datasets.Options{}), Metrics: metrics.New(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBodyBytes: maxBody, Version: "test"}
	return httptest.NewServer(s.Handler())
}

func post(t *testing.T, url, encoding string, body []byte) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}

func TestIntakeAcceptsLinesAndCompressedBodies(t *testing.T) {
	sk := &sink{}
	srv := newServer(sk, 1<<20)
	defer srv.Close()
	plain := []byte("line one\r\n\nline two\n  \nline three")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	zs := enc.EncodeAll(plain, nil)
	for _, tc := range []struct {
		encoding string
		body     []byte
	}{{"", plain}, {"gzip", gz.Bytes()}, {"zstd", zs}} {
		resp, m := post(t, srv.URL+"/api/v1/intake/syslog", tc.encoding, tc.body)
		if resp.StatusCode != 200 || m["accepted"] != float64(3) {
			t.Fatalf("%q: %d %v", tc.encoding, resp.StatusCode, m)
		}
	}
	if len(sk.batches) != 3 {
		t.Fatalf("%d batches", len(sk.batches))
	}
	b := sk.batches[0]
	if b.Dataset != "syslog" || b.Listener != "http" || string(b.Records[0].Data) != "line one" || string(b.Records[2].Data) != "line three" {
		t.Fatalf("batch %+v", b)
	}
}

func TestIntakeRefusals(t *testing.T) {
	sk := &sink{}
	srv := newServer(sk, 1000)
	defer srv.Close()
	resp, m := post(t, srv.URL+"/api/v1/intake/nope", "", []byte("x"))
	if resp.StatusCode != 400 || !strings.Contains(fmt.Sprint(m["error"]), "unknown dataset") {
		t.Fatalf("unknown dataset: %d %v", resp.StatusCode, m)
	}
	resp, _ = post(t, srv.URL+"/api/v1/intake/syslog", "", bytes.Repeat([]byte("a\n"), 600))
	if resp.StatusCode != 413 {
		t.Fatalf("large body: %d", resp.StatusCode)
	}
	// A small compressed body that inflates past the limit is refused too.
	enc, _ := zstd.NewWriter(nil)
	bomb := enc.EncodeAll(bytes.Repeat([]byte("b\n"), 10000), nil)
	resp, _ = post(t, srv.URL+"/api/v1/intake/syslog", "zstd", bomb)
	if resp.StatusCode != 413 {
		t.Fatalf("decompression bomb: %d", resp.StatusCode)
	}
	resp, _ = post(t, srv.URL+"/api/v1/intake/syslog", "br", []byte("x"))
	if resp.StatusCode != 415 {
		t.Fatalf("unknown encoding: %d", resp.StatusCode)
	}
	resp, _ = post(t, srv.URL+"/api/v1/intake/syslog", "gzip", []byte("not gzip"))
	if resp.StatusCode != 400 {
		t.Fatalf("bad gzip: %d", resp.StatusCode)
	}
	sk.err = fmt.Errorf("queue full: %w", intake.ErrBusy)
	resp, _ = post(t, srv.URL+"/api/v1/intake/syslog", "", []byte("x"))
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("busy: %d retry-after %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	sk.err = fmt.Errorf("disk on fire")
	resp, _ = post(t, srv.URL+"/api/v1/intake/syslog", "", []byte("x"))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("archive failure: %d", resp.StatusCode)
	}
	if len(sk.batches) != 0 {
		t.Fatalf("refused requests wrote %d batches", len(sk.batches))
	}
	// Refusals are counted by reason.
	mresp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, reason := range []string{"unknown_dataset", "too_large", "busy", "archive_error"} {
		if !strings.Contains(string(body), `reason="`+reason+`"`) {
			t.Errorf("metrics lack reason %s", reason)
		}
	}
}

func TestSearchRejectsABadCountMode(t *testing.T) {
	srv := newServer(&sink{}, 1<<20)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/v1/search?q=a&count=maybe")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(fmt.Sprint(m["error"]), "count") {
		t.Fatalf("count=maybe: %d %v", resp.StatusCode, m)
	}
}

func TestPprofOnlyWhenConfigured(t *testing.T) {
	for _, on := range []bool{false, true} {
		s := &Server{Datasets: datasets.Builtin(datasets.Options{}), Metrics: metrics.New(),
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Version: "test", Pprof: on}
		ts := httptest.NewServer(s.Handler())
		resp, err := http.Get(ts.URL + "/debug/pprof/heap?debug=1")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		ts.Close()
		served := resp.StatusCode == http.StatusOK && bytes.Contains(body, []byte("heap profile"))
		if served != on {
			t.Errorf("pprof %v: /debug/pprof/heap answered %d (%d bytes)", on, resp.StatusCode, len(body))
		}
	}
}
