package tokens

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/testutil"
)

// randomTokens returns n distinct tokens that no tokenizer output spells
// (they contain '#', a separator), so a probe with them is always absent
// from a filter of real text.
func randomTokens(r *rand.Rand, n int, prefix string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s#%d#%x", prefix, i, r.Uint64())
	}
	return out
}

func filterOf(fpr float64, toks []string) Filter {
	b := NewBuilder(fpr)
	for _, tok := range toks {
		b.AddHash(HashString(tok))
	}
	return b.Build()
}

func TestFilterHasEveryTokenAdded(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 1000, 100_000} {
		toks := randomTokens(r, n, "in")
		f := filterOf(0.01, toks)
		if f.Count() != n {
			t.Errorf("n=%d: Count = %d", n, f.Count())
		}
		for _, tok := range toks {
			if !f.MayContain(HashString(tok)) {
				t.Fatalf("n=%d: filter lacks %q, which was added", n, tok)
			}
		}
	}
}

// The measured false-positive rate on tokens never added must be close to
// the rate the filter was built for (and to the one its load predicts).
func TestFalsePositiveRate(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n, probes = 100_000, 1_000_000
	in := randomTokens(r, n, "in")
	for _, target := range []float64{0.1, 0.01, 0.001, 0.0001} {
		f := filterOf(target, in)
		fp := 0
		for i := range probes {
			if f.MayContain(HashString(fmt.Sprintf("out#%d", i))) {
				fp++
			}
		}
		rate := float64(fp) / probes
		t.Logf("target %g: measured %.5f, predicted %.5f, %.2f bits per token, k=%d", target, rate, f.expectedFPRate(),
			float64(8*(f.Size()-headerLen))/n, f.k)
		if rate > target*1.2 || rate < target*0.8 {
			t.Errorf("target %g: measured false-positive rate %.5f", target, rate)
		}
	}
}

func TestPlan(t *testing.T) {
	for _, p := range []float64{0.5, 0.1, 0.01, 0.001, 1e-6} {
		lambda, k := plan(p)
		if k < 1 || k > maxK {
			t.Fatalf("plan(%g): k = %d", p, k)
		}
		if got := fpRate(lambda, k); got > p {
			t.Errorf("plan(%g) = %.2f keys a block, k=%d: rate %g over the target", p, lambda, k, got)
		}
		// The load is the largest that meets the target, for every k.
		for kk := 1; kk <= maxK; kk++ {
			if got := fpRate(lambda*1.01, kk); got <= p {
				t.Errorf("plan(%g) = %.2f keys a block: k=%d meets the target with 1%% more (%g)", p, lambda, kk, got)
			}
		}
	}
}

func TestZeroFilterMayContainAnything(t *testing.T) {
	var f Filter
	if !f.MayContain(HashString("x")) || !f.MayContainTerm("alice") {
		t.Error("the zero Filter rules a token out")
	}
}

func TestMayContainTerm(t *testing.T) {
	b := NewBuilder(0.01)
	b.AddString("Failed password for alice from 203.0.113.77 port 22 ssh2")
	b.AddString("GET /_vti_bin/owssvr.dll HTTP/1.1 from bob@example.com")
	f := b.Build()
	for _, term := range []string{"alice", "ALICE", "203.0.113.77", "failed password", "owssvr", "owssvr.dll",
		"_vti_bin", "example.com", "bob@example.com", "a"} {
		if !f.MayContainTerm(term) {
			t.Errorf("filter lacks %q", term)
		}
	}
	// Absent terms: each has a token the filter lacks, barring a false
	// positive; with ten terms and a 1% rate, more than two is a bug.
	fp := 0
	for _, term := range []string{"mallory", "203.0.113.78", "failed login", "owssvr.exe", "example.org",
		"carol@example.com", "10.0.0.1", "trent", "ssh3", "password123"} {
		if f.MayContainTerm(term) {
			fp++
		}
	}
	if fp > 2 {
		t.Errorf("%d of 10 absent terms pass the filter", fp)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{0, 1, 5000} {
		toks := randomTokens(r, n, "in")
		f := filterOf(0.01, toks)
		data := f.Marshal()
		if len(data) != f.Size() {
			t.Errorf("n=%d: Marshal gives %d bytes, Size says %d", n, len(data), f.Size())
		}
		g, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("n=%d: Unmarshal: %v", n, err)
		}
		if g.Count() != f.Count() || g.k != f.k || !bytes.Equal(g.Marshal(), data) {
			t.Errorf("n=%d: round trip changed the filter", n)
		}
		for _, tok := range toks {
			if !g.MayContain(HashString(tok)) {
				t.Fatalf("n=%d: unmarshalled filter lacks %q", n, tok)
			}
		}
		for _, tok := range randomTokens(r, 1000, "out") {
			h := HashString(tok)
			if f.MayContain(h) != g.MayContain(h) {
				t.Fatalf("n=%d: filters disagree on %q", n, tok)
			}
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	good := filterOf(0.01, []string{"a#1", "b#2"}).Marshal()
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"short header", good[:headerLen-1], ErrFormat},
		{"header only", good[:headerLen], ErrFormat},
		{"unknown version", with(func(b []byte) []byte { b[0] = 2; return b }), ErrVersion},
		{"version zero", with(func(b []byte) []byte { b[0] = 0; return b }), ErrVersion},
		{"k zero", with(func(b []byte) []byte { b[1] = 0; return b }), ErrFormat},
		{"k too large", with(func(b []byte) []byte { b[1] = maxK + 1; return b }), ErrFormat},
		{"no blocks", with(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[2:], 0); return b[:headerLen] }), ErrFormat},
		{"truncated", good[:len(good)-1], ErrFormat},
		{"trailing byte", append(bytes.Clone(good), 0), ErrFormat},
		{"block count past the data", with(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[2:], math.MaxUint32); return b }), ErrFormat},
	}
	for _, tt := range tests {
		if _, err := Unmarshal(tt.data); !errors.Is(err, tt.want) {
			t.Errorf("%s: Unmarshal error %v, want %v", tt.name, err, tt.want)
		}
	}
}

// The hash is persisted: it must stay XXH3-64 with seed 0. These are the
// reference implementation's values (xxhsum -H3 0.8.1 of the same bytes).
func TestHashIsXXH3(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint64
	}{
		{"", 0x2d06800538d394c2},
		{"a", 0xe6c632b61e964e1f},
		{"abc", 0x78af5f94892f3950},
		{"owssvr.dll", 0xb422624dd68d5779},
	} {
		if got := HashString(c.in); got != c.want {
			t.Errorf("HashString(%q) = %#x, want %#x", c.in, got, c.want)
		}
		if got := Hash([]byte(c.in)); got != c.want {
			t.Errorf("Hash(%q) = %#x, want %#x", c.in, got, c.want)
		}
	}
}

// goldenText is fixed input for the golden filter below.
const goldenText = "CEF:0|Trend Micro|Deep Security Agent|20.0.1|20|Log For TCP Port Scan|6|act=Reset src=203.0.113.77 " +
	"dst=10.0.12.34 suser=ALICE@example.com request=https://web-01.corp.example.com/_vti_bin/owssvr.dll msg=Straße ΣΑΣ"

// A filter written by an earlier build must read the same today: a change
// to the tokenizer, the hash or the layout shows here and calls for a new
// Version. Run with -update to rewrite the file after such a change.
func TestGoldenFilter(t *testing.T) {
	b := NewBuilder(0.01)
	b.AddString(goldenText)
	got := b.Build().Marshal()
	path := filepath.Join("testdata", fmt.Sprintf("golden-v%d.filter", Version))
	testutil.Golden(t, path, got)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Unmarshal(data)
	if err != nil {
		t.Fatalf("Unmarshal golden filter: %v", err)
	}
	for _, tok := range tokensOf(goldenText) {
		if !f.MayContain(HashString(tok)) {
			t.Errorf("golden filter lacks %q", tok)
		}
	}
	for _, term := range strings.Fields("203.0.113.77 alice@example.com owssvr.dll web-01 straße σασ") {
		if !f.MayContainTerm(term) {
			t.Errorf("golden filter lacks the term %q", term)
		}
	}
}

// A decoded filter may claim any token count: the rate model must stay
// quick and sane for it.
func TestFPRateOfHugeLoad(t *testing.T) {
	if r := fpRate(1e9, 6); !(r > 0.99 && r <= 1) {
		t.Errorf("fpRate(1e9, 6) = %g, want nearly 1", r)
	}
	for _, lambda := range []float64{blockBits, blockBits + 1, 999} {
		if r := fpRate(lambda, 6); !(r > 0.5 && r <= 1) {
			t.Errorf("fpRate(%g, 6) = %g, want over half at %g keys a 512-bit block", lambda, r, lambda)
		}
	}
}
