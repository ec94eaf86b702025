package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConsoleStaleAfter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "mamori.yaml")
	writeFile(t, path, `data_dir: `+dir+`
console:
  stale_after: 2h
  stale_after_per_dataset:
    dhcp.lease: 1d
    google_workspace.drive: 0
`)
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	for ds, want := range map[string]time.Duration{"linux.syslog": 2 * time.Hour, "dhcp.lease": 24 * time.Hour, "google_workspace.drive": 0} {
		if got := c.Console.StaleFor(ds); got != want {
			t.Errorf("StaleFor(%s) = %v, want %v", ds, got, want)
		}
	}
	if got := Default().Console.StaleFor("x"); got != time.Hour {
		t.Errorf("default stale_after = %v, want 1h", got)
	}

	writeFile(t, path, `data_dir: `+dir+`
console:
  stale_after: -1h
  stale_after_per_dataset: {"Bad Name": 1h}
`)
	if c, err = Load(path); err != nil {
		t.Fatal(err)
	}
	err = c.Finish()
	if err == nil || !strings.Contains(err.Error(), "console.stale_after: must not be negative") ||
		!strings.Contains(err.Error(), `"Bad Name" is not a dataset name`) {
		t.Fatalf("invalid console section: %v", err)
	}
}
