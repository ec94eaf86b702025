package builtin

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/native"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// benchEvents parses every golden input of mamori's datasets (their
// testdata, a realistic mix of every source) and the built-in rules'
// samples, line by line, as the processor would.
func benchEvents(b *testing.B) []*event.Event {
	b.Helper()
	inputs := testutil.DatasetInputs(b)
	reg := registry()
	var out []*event.Event
	add := func(key string, recs [][]byte) {
		for i, rec := range recs {
			if evs, problem := Normalize(reg, rec, key, int64(i), received); problem == "" {
				out = append(out, evs...)
			}
		}
	}
	for _, in := range inputs {
		data, err := os.ReadFile(in)
		if err != nil {
			b.Fatal(err)
		}
		add(in, lines(data))
	}
	samples, err := Samples("")
	if err != nil {
		b.Fatal(err)
	}
	for _, s := range samples {
		add(s.File, s.Records)
	}
	return out
}

// sigmaHQ returns n of SigmaHQ's rules from ../shared/sigma: every active
// one first (their logsource maps to a dataset, so they meet events),
// then inactive ones, in file order.
func sigmaHQ(b *testing.B, n int) []*sigma.Rule {
	b.Helper()
	dir := filepath.Join(testutil.SharedDir(b), "sigma", "rules")
	_, rep, err := detect.Load([]string{dir}, detect.Options{})
	if err != nil {
		b.Fatal(err)
	}
	var active, inactive []*sigma.Rule
	for _, info := range rep.Rules {
		if info.Rule.Correlation != nil {
			continue // a correlation needs the rules it counts
		}
		if info.Active {
			active = append(active, info.Rule)
		} else {
			inactive = append(inactive, info.Rule)
		}
	}
	all := append(active, inactive...)
	if len(all) > n {
		all = all[:n]
	}
	return all
}

// BenchmarkEngines evaluates the built-in rules, alone and beside 200
// SigmaHQ rules, over a mix of every dataset's sample events, one batch
// per iteration, and reports events/s (run with -cpu 1 for one core).
func BenchmarkEngines(b *testing.B) {
	set, err := Rules(Options{})
	if err != nil {
		b.Fatal(err)
	}
	evs := benchEvents(b)
	run := func(b *testing.B, extra []*sigma.Rule) {
		// Each iteration sees the same events again; fresh engines keep
		// the threshold and correlation state from growing across runs
		// in a way the stream would not.
		sig, rejected := detect.New(append(append([]*sigma.Rule(nil), extra...), set.Sigma...), detect.Options{})
		if len(rejected) > 0 {
			b.Fatalf("rejected %v", rejected)
		}
		nat, rejected := native.New(set.Native, native.Options{})
		if len(rejected) > 0 {
			b.Fatalf("rejected %v", rejected)
		}
		b.Logf("%d Sigma rules (%d built-in) and %d native rules; %d events a batch", len(sig.Rules()), len(set.Sigma), len(nat.Rules()), len(evs))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			sig.Evaluate(evs)
			nat.Evaluate(evs)
		}
		b.ReportMetric(float64(b.N*len(evs))/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
	}
	b.Run("builtin", func(b *testing.B) { run(b, nil) })
	b.Run("builtin+200sigma", func(b *testing.B) { run(b, sigmaHQ(b, 200)) })
}
