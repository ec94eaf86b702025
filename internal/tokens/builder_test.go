package tokens

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestBuilderCountsDistinctTokens(t *testing.T) {
	lines := genLines(11, 3000)
	b := NewBuilder(0.01)
	distinct := map[string]bool{}
	for _, l := range lines {
		b.AddString(l)
		for _, tok := range tokensOf(l) {
			distinct[tok] = true
		}
	}
	if b.Len() != len(distinct) {
		t.Fatalf("Len = %d, want %d distinct tokens", b.Len(), len(distinct))
	}
	// Adding the same text again adds nothing.
	for _, l := range lines[:100] {
		b.Add([]byte(l))
	}
	if b.Len() != len(distinct) {
		t.Errorf("Len = %d after adding lines again, want %d", b.Len(), len(distinct))
	}
	f := b.Build()
	if f.Count() != len(distinct) {
		t.Errorf("filter Count = %d, want %d", f.Count(), len(distinct))
	}
	for tok := range distinct {
		if !f.MayContain(HashString(tok)) {
			t.Fatalf("filter lacks %q", tok)
		}
	}
	// Sized for the distinct count: about 10 bits a token at 1%.
	if bits := float64(8*len(f.blocks)) / float64(len(distinct)); bits < 9 || bits > 11 {
		t.Errorf("%.1f bits a token, want about 10 at 1%%", bits)
	}
}

func TestBuilderReset(t *testing.T) {
	b := NewBuilder(0.01)
	b.AddString("alice bob")
	b.AddHash(0)
	b.Reset()
	if b.Len() != 0 {
		t.Fatalf("Len = %d after Reset", b.Len())
	}
	b.AddString("carol")
	f := b.Build()
	if f.Count() != 1 || !f.MayContainTerm("carol") {
		t.Errorf("after Reset the filter holds %d tokens, carol: %v", f.Count(), f.MayContainTerm("carol"))
	}
	if f.MayContain(0) && f.MayContainTerm("alice") && f.MayContainTerm("bob") {
		t.Error("tokens added before Reset are all still in the filter")
	}
}

func TestBuilderHashZero(t *testing.T) {
	b := NewBuilder(0.01)
	b.AddHash(0)
	b.AddHash(0)
	if b.Len() != 1 {
		t.Fatalf("Len = %d after adding the hash 0 twice", b.Len())
	}
	if f := b.Build(); !f.MayContain(0) {
		t.Error("filter lacks the hash 0")
	}
}

func TestHashSetGrows(t *testing.T) {
	var s hashSet
	r := rand.New(rand.NewPCG(12, 13))
	seen := map[uint64]bool{}
	for range 50_000 {
		h := r.Uint64() | 1
		if r.IntN(4) == 0 && len(seen) > 0 {
			h = r.Uint64N(1000) + 1 // repeats
		}
		seen[h] = true
		s.add(h)
	}
	if s.len() != len(seen) {
		t.Fatalf("len = %d, want %d", s.len(), len(seen))
	}
	if s.n > s.limit || len(s.slots)&(len(s.slots)-1) != 0 {
		t.Errorf("%d hashes in %d slots (limit %d)", s.n, len(s.slots), s.limit)
	}
	in := 0
	for _, h := range s.slots {
		if h != 0 {
			if !seen[h] {
				t.Fatalf("set holds %#x, never added", h)
			}
			in++
		}
	}
	if in != len(seen) {
		t.Errorf("set holds %d hashes, want %d", in, len(seen))
	}
}

func TestNewBuilderRates(t *testing.T) {
	def := NewBuilder(DefaultFalsePositiveRate)
	for _, fpr := range []float64{0, -1, math.NaN()} {
		if b := NewBuilder(fpr); b.k != def.k || b.keysPerBlock != def.keysPerBlock {
			t.Errorf("NewBuilder(%v) is not the default builder", fpr)
		}
	}
	lo, hi := NewBuilder(MinFalsePositiveRate), NewBuilder(MaxFalsePositiveRate)
	if b := NewBuilder(1e-12); b.keysPerBlock != lo.keysPerBlock {
		t.Error("a rate below the minimum is not clamped")
	}
	if b := NewBuilder(2); b.keysPerBlock != hi.keysPerBlock {
		t.Error("a rate above the maximum is not clamped")
	}
	if !(lo.keysPerBlock < def.keysPerBlock && def.keysPerBlock < hi.keysPerBlock) {
		t.Errorf("keys a block: %g at 1e-6, %g at 1%%, %g at 50%%", lo.keysPerBlock, def.keysPerBlock, hi.keysPerBlock)
	}
}

func TestBuilderDoesNotAllocate(t *testing.T) {
	b := NewBuilder(0.01)
	b.AddString(cefLine)
	bs := []byte(cefLine)
	if a := testing.AllocsPerRun(100, func() { b.AddString(cefLine) }); a != 0 {
		t.Errorf("AddString allocates %v times a call", a)
	}
	if a := testing.AllocsPerRun(100, func() { b.Add(bs) }); a != 0 {
		t.Errorf("Add allocates %v times a call", a)
	}
}
