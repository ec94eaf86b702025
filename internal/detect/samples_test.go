package detect

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// sampleEvents parses every golden input of mamori's datasets
// (internal/datasets/**/testdata/*/input, written by their authors from
// the vendors' documented formats) the way the processor does: the
// dataset is recognised from the record, and each event is completed with
// event.id, event.dataset, event.original, @timestamp and related.*. It is
// a realistic mix of ECS events from every source.
func sampleEvents(t testing.TB) []*event.Event {
	t.Helper()
	inputs := testutil.DatasetInputs(t)
	received := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	reg := datasets.Builtin(datasets.Options{Now: func() time.Time { return received }})
	var out []*event.Event
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, recordEvents(reg, in, data, received)...)
	}
	if len(out) == 0 {
		t.Fatal("no sample events: the datasets' testdata was not found")
	}
	return out
}

// recordEvents parses each line of data as an unnamed record.
func recordEvents(reg *dataset.Registry, key string, data []byte, received time.Time) []*event.Event {
	var out []*event.Event
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for i := 0; sc.Scan(); i++ {
		line := bytes.Clone(sc.Bytes())
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		ds, ok := reg.Detect(line)
		if !ok {
			continue
		}
		evs, err := ds.Parser.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			continue
		}
		for sub, e := range evs {
			e.Set(event.FieldID, event.ID(key, int64(i), sub))
			e.SetIfAbsent(event.FieldDataset, ds.Name)
			e.SetIfAbsent(event.FieldOriginal, string(line))
			if e.Time().IsZero() {
				e.Set(event.FieldTimestamp, received)
			}
			e.FillRelated()
			out = append(out, e)
		}
	}
	return out
}

// corpusEvents parses every corpus sample under ../shared/corpus.
func corpusEvents(t testing.TB) []*event.Event {
	t.Helper()
	dir := filepath.Join(testutil.SharedDir(t), "corpus")
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	received := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	reg := datasets.Builtin(datasets.Options{Now: func() time.Time { return received }})
	var out []*event.Event
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, f)
		out = append(out, recordEvents(reg, rel, data, received)...)
	}
	return out
}
