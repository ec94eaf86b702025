package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultsAreValidAndLoopback(t *testing.T) {
	c := Default()
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if !IsLoopback(c.HTTP.Address) {
		t.Errorf("default HTTP address %s is not loopback", c.HTTP.Address)
	}
	for _, l := range c.Syslog {
		if !IsLoopback(l.Address) {
			t.Errorf("default syslog address %s is not loopback", l.Address)
		}
	}
	if !strings.HasPrefix(c.Archive.URL, "file://") || !strings.HasSuffix(c.Archive.URL, "/archive") {
		t.Errorf("archive url %s", c.Archive.URL)
	}
	if got := c.RetentionFor("syslog"); got != 90*24*time.Hour {
		t.Errorf("default retention %v", got)
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadFileAndValidation(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	writeFile(t, good, `
data_dir: /var/lib/mamori
http:
  address: 0.0.0.0:8080
  max_body_bytes: 8MiB
syslog:
  - protocol: udp
    address: 0.0.0.0:514
    dataset: panw.panos
retention:
  default: 30d
  datasets:
    cef: 12h
`)
	c, err := Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); err != nil {
		t.Fatal(err)
	}
	if c.HTTP.MaxBodyBytes != 8<<20 || len(c.Syslog) != 1 || c.Syslog[0].Dataset != "panw.panos" {
		t.Fatalf("loaded %+v", c)
	}
	if c.RetentionFor("cef") != 12*time.Hour || c.RetentionFor("x") != 30*24*time.Hour {
		t.Fatalf("retention %v %v", c.RetentionFor("cef"), c.RetentionFor("x"))
	}
	if c.Store.Path != "/var/lib/mamori/mamori.duckdb" || c.Archive.URL != "file:///var/lib/mamori/archive" {
		t.Fatalf("derived paths %s %s", c.Store.Path, c.Archive.URL)
	}

	bad := filepath.Join(dir, "bad.yaml")
	writeFile(t, bad, "http:\n  adress: 1.2.3.4:5\n")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Fatalf("unknown field not reported: %v", err)
	}
	writeFile(t, bad, "retention:\n  default: 5 weeks\n")
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), "5 weeks") {
		t.Fatalf("bad duration not reported: %v", err)
	}
	writeFile(t, bad, "syslog:\n  - protocol: sctp\n    address: nope\n    dataset: 'Bad Name'\n")
	c, err = Load(bad)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Finish()
	for _, want := range []string{"syslog[0].protocol", "syslog[0].address", "syslog[0].dataset"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("validation error %v does not name %s", err, want)
		}
	}
	writeFile(t, bad, "archive:\n  compression: max\n")
	if c, err = Load(bad); err != nil {
		t.Fatal(err)
	}
	if err := c.Finish(); err == nil || !strings.Contains(err.Error(), "archive.compression") || !strings.Contains(err.Error(), `"max"`) {
		t.Errorf("bad compression level: %v", err)
	}
}

func TestUnits(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "1.5d": 36 * time.Hour, "15m": 15 * time.Minute, "0": 0} {
		got, err := ParseDuration(in)
		if err != nil || time.Duration(got) != want {
			t.Errorf("ParseDuration(%q) = %v, %v", in, got, err)
		}
	}
	for in, want := range map[string]ByteSize{"64KiB": 65536, "1MB": 1000000, "512": 512, "2GiB": 2 << 30} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseByteSize("-1"); err == nil {
		t.Error("negative size accepted")
	}
}
