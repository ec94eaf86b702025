package mapping_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets/mapping"
	"github.com/mamori-sec/mamori/internal/event"
)

// fuzzRecords are parsed with every mapping FuzzParse manages to load.
var fuzzRecords = []string{
	`{"a":{"b":[1,"x",{"c":true}]},"t":"2024-03-01T10:00:00Z","ip":"192.0.2.1"}`,
	`a=1 b="two words" ip=192.0.2.1`,
	`x,y,"z,z",192.0.2.1`,
	`CEF:0|V|P|1|2|n|5|src=192.0.2.1 act=x cs1=y`,
	"LEEF:1.0|V|P|1|e|src=192.0.2.1\tusrName=a",
	`<13>Mar  1 11:00:00 host app[1]: k=v`,
}

// FuzzParse feeds arbitrary YAML to the loader. It must return datasets
// or an *Error naming the file; a loaded dataset must have a valid name
// and a parser that turns records into events without panicking and
// without writing the fields the pipeline owns.
func FuzzParse(f *testing.F) {
	for _, p := range mustGlob(f, "testdata/*/mapping.yaml") {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ds, err := mapping.Parse(data, "fuzz.yaml", opts)
		if err != nil {
			var me *mapping.Error
			if !errors.As(err, &me) || me.Source != "fuzz.yaml" || me.Msg == "" {
				t.Fatalf("error %v (%T) is not a *mapping.Error naming the file", err, err)
			}
			return
		}
		if len(ds) == 0 {
			t.Fatal("no datasets and no error")
		}
		for _, d := range ds {
			if d.Name == "" || d.Parser == nil || strings.ToLower(d.Name) != d.Name {
				t.Fatalf("invalid dataset %+v", d)
			}
			for _, rec := range fuzzRecords {
				checkParse(t, d, []byte(rec))
			}
		}
	})
}

// FuzzMappedParser feeds arbitrary records to a mapping of each format.
func FuzzMappedParser(f *testing.F) {
	for _, r := range fuzzRecords {
		f.Add([]byte(r))
	}
	var ds []dataset.Dataset
	for _, p := range mustGlob(f, "testdata/*/mapping.yaml") {
		loaded, err := mapping.Load(p, opts)
		if err != nil {
			f.Fatal(err)
		}
		ds = append(ds, loaded...)
	}
	ds = append(ds, loadExample(f))
	f.Fuzz(func(t *testing.T, line []byte) {
		for _, d := range ds {
			checkParse(t, d, line)
			if d.Claim != nil {
				d.Claim(dataset.LineOf(line))
			}
		}
	})
}

// checkParse parses one record, as it is and as the object's header for a
// dataset that takes one, and checks the result: an error names the
// dataset; every event marshals and has a real @timestamp if any, and no
// field the pipeline owns.
func checkParse(t *testing.T, d dataset.Dataset, line []byte) {
	t.Helper()
	for _, header := range [][]byte{nil, []byte("a,b,c,d"), line} {
		evs, err := d.Parser.Parse(dataset.Record{Data: line, Received: received, Header: header})
		if err != nil {
			if !strings.HasPrefix(err.Error(), d.Name+": ") {
				t.Fatalf("%s: error %q does not name the dataset", d.Name, err)
			}
			continue
		}
		for _, ev := range evs {
			if _, err := ev.MarshalJSON(); err != nil {
				t.Fatalf("%s: marshal: %v", d.Name, err)
			}
			if v, ok := ev.Get(event.FieldTimestamp); ok {
				if _, isTime := v.(time.Time); !isTime {
					t.Fatalf("%s: @timestamp is %T", d.Name, v)
				}
			}
			for _, f := range []string{event.FieldID, event.FieldIngested, event.FieldDataset} {
				if ev.Has(f) {
					t.Fatalf("%s: parser set %s", d.Name, f)
				}
			}
		}
	}
}

func mustGlob(t testing.TB, pattern string) []string {
	t.Helper()
	paths, err := filepath.Glob(pattern)
	if err != nil || len(paths) == 0 {
		t.Fatalf("glob %s: %v (%d files)", pattern, err, len(paths))
	}
	return paths
}
