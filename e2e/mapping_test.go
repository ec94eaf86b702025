package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCustomMappingDataset configures the shipped example mapping file
// (docs/datasets/examples/trendmicro-deepsecurity.yaml) and checks that the
// binary takes it as a dataset like a built-in one: `serve --check` reads
// it, and `mamori parse` recognises an unnamed line as it, with the seed's
// fields. A broken mapping file is refused, naming file and line.
func TestCustomMappingDataset(t *testing.T) {
	example, err := filepath.Abs("../docs/datasets/examples/trendmicro-deepsecurity.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "mamori.yaml")
	if err := os.WriteFile(cfg, []byte("datasets:\n  - "+example+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := runMamori(t, nil, "serve", "--config", cfg, "--data", dir, "--check"); code != 0 {
		t.Fatalf("serve --check: exit %d\n%s%s", code, out, errOut)
	}
	line := "<134>Nov 20 10:00:00 web-01 CEF:0|Trend Micro|Deep Security Agent|20.0|20|Log for TCP Port Scan|5|cn1=1 cn1Label=Host ID dvc=10.0.0.5 act=Reset src=192.0.2.10 dst=10.0.0.5 proto=TCP spt=44521 dpt=22\n"
	code, out, errOut := runMamori(t, strings.NewReader(line), "parse", "--config", cfg)
	if code != 0 {
		t.Fatalf("parse: exit %d\n%s", code, errOut)
	}
	var doc struct {
		Event       struct{ Dataset, Action string }
		Source      struct{ IP string }
		Destination struct {
			IP   string
			Port int
		}
		Network struct{ Transport string }
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("parse output %q: %v", out, err)
	}
	if doc.Event.Dataset != "trendmicro.deepsecurity_custom" || doc.Event.Action != "Reset" || doc.Source.IP != "192.0.2.10" ||
		doc.Destination.IP != "10.0.0.5" || doc.Destination.Port != 22 || doc.Network.Transport != "tcp" {
		t.Errorf("parsed %s", out)
	}

	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("name: acme.fw\nformat: regex\npattern: \"(\"\n"), 0o644)
	os.WriteFile(cfg, []byte("datasets:\n  - "+bad+"\n"), 0o644)
	code, _, errOut = runMamori(t, nil, "serve", "--config", cfg, "--data", dir, "--check")
	if code == 0 || !strings.Contains(errOut, "bad.yaml:") {
		t.Fatalf("a broken mapping: exit %d, stderr %q; want a refusal naming the file and line", code, errOut)
	}
}
