package tokens

import (
	"testing"
)

// BenchmarkTokenizeCEFLine is the tokenizer alone on a 400-byte CEF line.
func BenchmarkTokenizeCEFLine(b *testing.B) {
	var t Tokenizer
	n := 0
	count := func([]byte) { n++ }
	b.SetBytes(int64(len(cefLine)))
	b.ReportAllocs()
	for b.Loop() {
		t.TokensString(cefLine, count)
	}
	b.ReportMetric(float64(n)/float64(b.N), "tokens/op")
}

// BenchmarkTokenizeLines is the tokenizer alone on varied lines.
func BenchmarkTokenizeLines(b *testing.B) {
	lines := genLines(1, blockEvents)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	var t Tokenizer
	n := 0
	count := func([]byte) { n++ }
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		t.TokensString(lines[i%len(lines)], count)
		i++
	}
	b.ReportMetric(float64(n)/float64(b.N), "tokens/op")
}

// BenchmarkAddCEFLine tokenizes a 400-byte CEF line and adds its tokens to
// a Builder that has seen it before (the tokens are already in the set).
func BenchmarkAddCEFLine(b *testing.B) {
	bl := NewBuilder(0.01)
	bl.AddString(cefLine)
	b.SetBytes(int64(len(cefLine)))
	b.ReportAllocs()
	for b.Loop() {
		bl.AddString(cefLine)
	}
}

// BenchmarkAddLines adds varied lines to a Builder holding a 20,000-event
// block: the set is large and new tokens keep arriving, as in ingestion.
func BenchmarkAddLines(b *testing.B) {
	lines := genLines(1, blockEvents)
	bl := NewBuilder(0.01)
	size := 0
	for _, l := range lines {
		size += len(l)
	}
	b.SetBytes(int64(size / len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(lines) {
			i = 0
			bl.Reset()
		}
		bl.AddString(lines[i])
		i++
	}
}

const blockEvents = 20000

// BenchmarkBuildBlock builds the filter of a 20,000-event block from
// scratch with a reused Builder, and reports the filter's size per event.
func BenchmarkBuildBlock(b *testing.B) {
	lines := genLines(1, blockEvents)
	bl := NewBuilder(0.01)
	var f Filter
	b.ReportAllocs()
	for b.Loop() {
		bl.Reset()
		for _, l := range lines {
			bl.AddString(l)
		}
		f = bl.Build()
	}
	b.ReportMetric(float64(f.Size())/blockEvents, "filterB/event")
	b.ReportMetric(float64(f.Count())/blockEvents, "distinct/event")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/blockEvents, "ns/event")
}

// BenchmarkMayContain is one probe of a 20,000-event block's filter with a
// precomputed hash, for tokens that are present and tokens that are not.
func BenchmarkMayContain(b *testing.B) {
	bl := NewBuilder(0.01)
	for _, l := range genLines(1, blockEvents) {
		bl.AddString(l)
	}
	f := bl.Build()
	for _, c := range []struct {
		name string
		tok  string
	}{{"present", "alice"}, {"absent", "mallory"}} {
		b.Run(c.name, func(b *testing.B) {
			h := HashString(c.tok)
			hits := 0
			for b.Loop() {
				if f.MayContain(h) {
					hits++
				}
			}
			_ = hits
		})
	}
}

// BenchmarkMayContainTerm tests an IP address term, hashed once, against
// 1,000 block filters: the per-block cost of pruning a keyword search.
func BenchmarkMayContainTerm(b *testing.B) {
	const blocks = 1000
	filters := make([]Filter, blocks)
	bl := NewBuilder(0.01)
	for i := range filters {
		bl.Reset()
		for _, l := range genLines(uint64(i), 200) {
			bl.AddString(l)
		}
		filters[i] = bl.Build()
	}
	hs := QueryHashes("203.0.113.77")
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, f := range filters {
			if f.MayContainAll(hs) {
				n++
			}
		}
		_ = n
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/blocks, "ns/block")
}
