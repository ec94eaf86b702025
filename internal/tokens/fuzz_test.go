package tokens

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzNoFalseNegatives checks the filter's one promise on arbitrary text:
// every token of the text is in the filter built from it, before and after
// a Marshal round trip, and so is every token QueryTokens or FragmentTokens
// gives for a fragment of the text (text[i:j] of the lower-cased text, its
// ends closed where the text has no word character beside them).
func FuzzNoFalseNegatives(f *testing.F) {
	f.Add([]byte(cefLine), uint16(120), uint16(160))
	f.Add([]byte("Failed password for ALICE from 203.0.113.77 port 52311 ssh2"), uint16(24), uint16(45))
	f.Add([]byte(`{"userName":"alice@example.com","ip":"2001:db8::1"}`), uint16(13), uint16(30))
	f.Add([]byte("GET /_vti_bin/owssvr.dll HTTP/1.1"), uint16(5), uint16(23))
	f.Add([]byte("ÀLICE Straße ΣΑΣ cafe\u0301 ログイン失敗 \xff\xc3"), uint16(1), uint16(9))
	b := NewBuilder(0.01) // reused: sizing a new one costs more than the checks
	f.Fuzz(func(t *testing.T, text []byte, i, j uint16) {
		b.Reset()
		b.Add(text)
		filter := b.Build()
		again, err := Unmarshal(filter.Marshal())
		if err != nil {
			t.Fatalf("Unmarshal(Marshal()): %v", err)
		}
		toks := tokensOf(string(text))
		set := map[string]bool{}
		for _, tok := range toks {
			set[tok] = true
			if len(tok) > MaxTokenLen || len(tok) == 0 {
				t.Fatalf("token %q has %d bytes", tok, len(tok))
			}
			h := HashString(tok)
			if !filter.MayContain(h) || !again.MayContain(h) {
				t.Fatalf("filter of %q lacks its token %q", text, tok)
			}
		}
		if filter.Count() != len(set) {
			t.Fatalf("filter of %q counts %d tokens, want %d", text, filter.Count(), len(set))
		}
		l := lowerText(string(text))
		if got := tokensOf(l); !slices.Equal(got, toks) {
			t.Fatalf("tokens of lower-cased %q = %q, want %q", text, got, toks)
		}
		a, z := int(i)%(len(l)+1), int(j)%(len(l)+1)
		if a > z {
			a, z = z, a
		}
		frag := l[a:z]
		v := newTextView(l)
		openStart, openEnd := !v.closedStart(a), !v.closedEnd(z)
		for _, open := range [][2]bool{{true, true}, {openStart, openEnd}} {
			for _, tok := range FragmentTokens(frag, open[0], open[1]) {
				if !set[tok] || !filter.MayContain(HashString(tok)) {
					t.Fatalf("text %q: fragment %q (open %v) gives %q, not in the text's filter", text, frag, open, tok)
				}
			}
		}
		if !openStart && !openEnd && !filter.MayContainTerm(frag) {
			t.Fatalf("text %q holds %q as whole words, but its filter rules the term out", text, frag)
		}
	})
}

// FuzzUnmarshal feeds Unmarshal arbitrary bytes: it must not panic, and
// what it accepts must encode back to the same bytes and answer probes.
func FuzzUnmarshal(f *testing.F) {
	b := NewBuilder(0.01)
	b.AddString("alice 10.0.0.1")
	good := b.Build().Marshal()
	f.Add(good)
	f.Add(good[:headerLen])
	f.Add([]byte{})
	f.Add([]byte{Version, maxK + 1, 1, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		filter, err := Unmarshal(data)
		if err != nil {
			return
		}
		if !bytes.Equal(filter.Marshal(), data) || filter.Size() != len(data) {
			t.Fatalf("accepted %x but encodes it back as %x", data, filter.Marshal())
		}
		for _, h := range []uint64{0, 1, ^uint64(0), 1 << 63, HashString("alice")} {
			filter.MayContain(h)
		}
		filter.MayContainTerm("10.0.0.1")
		_ = filter.expectedFPRate()
	})
}
