package collect

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/intake"
)

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secret")
	if err := os.WriteFile(file, []byte("  hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("MAMORI_TEST_SECRET", "s3cret\n")
	t.Setenv("MAMORI_TEST_EMPTY", "")

	for name, tc := range map[string]struct {
		file, env, want, err string
	}{
		"file":          {file: file, want: "hunter2"},
		"env":           {env: "MAMORI_TEST_SECRET", want: "s3cret"},
		"both":          {file: file, env: "MAMORI_TEST_SECRET", err: "not both"},
		"neither":       {err: "not configured"},
		"missing file":  {file: filepath.Join(dir, "nope"), err: "no such file"},
		"empty file":    {file: empty, err: "is empty"},
		"unset env":     {env: "MAMORI_TEST_UNSET_VARIABLE", err: "MAMORI_TEST_UNSET_VARIABLE is not set"},
		"empty env var": {env: "MAMORI_TEST_EMPTY", err: "is empty"},
	} {
		got, err := ReadSecret("client secret", tc.file, tc.env)
		switch {
		case tc.err == "" && (err != nil || string(got) != tc.want):
			t.Errorf("%s: got %q, %v; want %q", name, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.HasPrefix(err.Error(), "client secret: ")):
			t.Errorf("%s: error %v, want one about %q", name, err, tc.err)
		}
		if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "s3cret")) {
			t.Errorf("%s: error quotes the secret: %v", name, err)
		}
	}
}

type nopSink struct{}

func (nopSink) Write(context.Context, intake.Batch) error { return nil }

func TestEnvDefaults(t *testing.T) {
	if _, err := (Env{StateDir: "/x"}).WithDefaults(); err == nil {
		t.Error("no sink accepted")
	}
	if _, err := (Env{Sink: nopSink{}}).WithDefaults(); err == nil {
		t.Error("no state directory accepted")
	}
	e, err := Env{Sink: nopSink{}, StateDir: "/x"}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	if e.Logger == nil || e.Now == nil || e.Sleep == nil || e.HTTPClient == nil || e.Jitter == nil {
		t.Errorf("defaults missing: %+v", e)
	}
	if e.HTTPClient.Timeout != DefaultHTTPTimeout {
		t.Errorf("HTTP timeout %s", e.HTTPClient.Timeout)
	}
	if j := e.Jitter(); j < 0 || j >= 1 {
		t.Errorf("jitter %v", j)
	}
}

func TestSleepContextReturnsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A day-long sleep on a done context returns at once with its error.
	if err := SleepContext(ctx, 24*time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v", err)
	}
	if err := SleepContext(context.Background(), 0); err != nil {
		t.Errorf("zero sleep: %v", err)
	}
	if err := SleepContext(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("short sleep: %v", err)
	}
}
