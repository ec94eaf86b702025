package mapping_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/mapping"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// received is the receive time of every test record.
var received = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

var opts = mapping.Options{Now: func() time.Time { return received }}

// load parses a mapping file held in a string and returns its only
// dataset.
func load(t testing.TB, src string) dataset.Dataset {
	t.Helper()
	ds, err := mapping.Parse([]byte(src), "test.yaml", opts)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(ds) != 1 {
		t.Fatalf("Parse: %d datasets, want 1", len(ds))
	}
	return ds[0]
}

// parseOne parses one record that must give exactly one event.
func parseOne(t testing.TB, d dataset.Dataset, line string) *event.Event {
	t.Helper()
	evs, err := d.Parser.Parse(dataset.Record{Data: []byte(line), Received: received})
	if err != nil || len(evs) != 1 {
		t.Fatalf("Parse(%q): %d events, %v", line, len(evs), err)
	}
	return evs[0]
}

// TestGolden runs every testdata/<case>: mapping.yaml is loaded, each line
// of input parsed with it (the first line is the object's header for a
// dataset with HeaderLine), and the events compared with expected.json
// (go test -update rewrites them). The inputs are written for these tests
// from each format's documented shape.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "*", "input"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no golden cases under testdata")
	}
	for _, in := range inputs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, filepath.Join(dir, "expected.json"), renderCase(t, dir, input))
		})
	}
}

// renderCase is the golden-file renderer for one case directory.
func renderCase(t *testing.T, dir string, input []byte) []byte {
	t.Helper()
	ds, err := mapping.Load(filepath.Join(dir, "mapping.yaml"), opts)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	d := ds[0]
	lines := bytes.Split(bytes.TrimRight(input, "\n"), []byte("\n"))
	var header []byte
	if d.HeaderLine {
		header = lines[0]
	}
	var out bytes.Buffer
	for _, line := range lines {
		evs, err := d.Parser.Parse(dataset.Record{Data: line, Received: received, Header: header})
		if err != nil {
			evs = []*event.Event{event.New(1)}
			evs[0].Set(event.FieldError, err.Error())
		}
		for _, ev := range evs {
			b, err := ev.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// datasetRecord is a record of an object whose first line is header.
func datasetRecord(line, header string) dataset.Record {
	return dataset.Record{Data: []byte(line), Received: received, Header: []byte(header)}
}
