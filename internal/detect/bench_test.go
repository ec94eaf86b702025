package detect

import (
	"path/filepath"
	"testing"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/testutil"
)

// BenchmarkEngine evaluates SigmaHQ's cloud, network and Linux rules (all
// of ../shared/sigma: 488 loaded, 166 active) over every dataset's sample
// events, one batch of them per iteration, and reports events/s (run with
// -cpu 1 for one core). "mix" is every sample, as a source mix would
// bring them; "ruled" only the events of datasets that have active rules
// (CloudTrail, Entra ID, Workspace, syslog, firewalls, DNS), each of which
// meets every rule of its logsource.
func BenchmarkEngine(b *testing.B) {
	dir := filepath.Join(testutil.SharedDir(b), "sigma", "rules")
	eng, rep, err := Load([]string{dir}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	mix := sampleEvents(b)
	var ruled []*event.Event
	for _, e := range mix {
		if len(eng.byDataset[e.String(event.FieldDataset)]) > 0 {
			ruled = append(ruled, e)
		}
	}
	for _, c := range []struct {
		name string
		evs  []*event.Event
	}{{"mix", mix}, {"ruled", ruled}} {
		b.Run(c.name, func(b *testing.B) {
			b.Logf("%d rules loaded, %d active; %d events a batch", rep.Loaded, rep.Active, len(c.evs))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				eng.Evaluate(c.evs)
			}
			b.ReportMetric(float64(b.N*len(c.evs))/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(c.evs)), "ns/event")
		})
	}
}
