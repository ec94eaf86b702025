package tokens

import (
	"strings"
	"testing"
)

func tokenSet(s string) map[string]bool {
	m := map[string]bool{}
	Tokens([]byte(s), func(t []byte) { m[string(t)] = true })
	return m
}

// checkCovered fails when Covered claims v is covered by text but a token of
// v is missing from text's.
func checkCovered(t *testing.T, text, v string) bool {
	t.Helper()
	if !Covered(text, v) {
		return false
	}
	have := tokenSet(text)
	for tok := range tokenSet(v) {
		if !have[tok] {
			t.Fatalf("Covered(%q, %q) but token %q of the value is not a token of the text", text, v, tok)
		}
	}
	return true
}

func TestCovered(t *testing.T) {
	cases := []struct {
		text, v string
		want    bool
	}{
		{"Failed password for alice from 10.0.0.1 port 22", "alice", true},
		{"Failed password for alice from 10.0.0.1 port 22", "10.0.0.1", true},
		{"Failed password for malice from 10.0.0.1", "alice", false},            // a word continues it
		{"dst=10.0.0.10 src=10.0.0.1", "10.0.0.1", true},                        // the second occurrence is bounded
		{"dst=10.0.0.10", "10.0.0.1", false},                                    // only inside a longer number
		{"user=alice@example.com", "alice", true},                               // a joiner after: more tokens, none lost
		{"user=alice@example.com", "example", true},                             // joiners both sides
		{"url=/a/owssvr.dll?x", "owssvr.dll", true},                             //
		{"CEF:0|Trend Micro|Deep Security Agent|", "Deep Security Agent", true}, // separators
		{"act=Reset", "reset", false},                                           // another case: not judged
		{"x", "", true},
		{"name=Émile Zola", "Émile", true},
		{"name=ZÉmile", "Émile", false}, // a letter before it
		{"1.2.3.4:443", ":443", true},
	}
	for _, c := range cases {
		if got := checkCovered(t, c.text, c.v); got != c.want {
			t.Errorf("Covered(%q, %q) = %v, want %v", c.text, c.v, got, c.want)
		}
	}
}

// FuzzCovered holds Covered to its promise on any text and any substring of
// it (and on values that are not substrings).
func FuzzCovered(f *testing.F) {
	f.Add("Failed password for alice from 10.0.0.1 port 22", 20, 5)
	f.Add("dst=10.0.0.10 src=10.0.0.1", 4, 8)
	f.Add("name=ZÉmile x", 6, 6)
	f.Add("a\xff\xfeb c", 1, 2)
	f.Add("user=alice@example.com", 5, 5)
	f.Fuzz(func(t *testing.T, text string, start, n int) {
		if len(text) == 0 {
			return
		}
		start = ((start % len(text)) + len(text)) % len(text)
		end := start + ((n%64)+64)%64
		end = min(end, len(text))
		checkCovered(t, text, text[start:end])
		checkCoveredAt(t, text, start, end)
	})
}

// checkCoveredAt fails when CoveredAt claims text[start:end] is covered at
// start but a token of it is missing from text's.
func checkCoveredAt(t *testing.T, text string, start, end int) bool {
	t.Helper()
	v := text[start:end]
	if !CoveredAt(text, v, start) {
		return false
	}
	have := tokenSet(text)
	for tok := range tokenSet(v) {
		if !have[tok] {
			t.Fatalf("CoveredAt(%q, %q, %d) but token %q of the value is not a token of the text", text, v, start, tok)
		}
	}
	return true
}

func TestCoveredAt(t *testing.T) {
	text := "dst=10.0.0.10 src=10.0.0.1 user=alice@example.com name=ZÉmile"
	cases := []struct {
		v    string
		at   int // the occurrence, counted from 0
		want bool
	}{
		{"10.0.0.1", 0, false}, // the start of 10.0.0.10: a digit continues it
		{"10.0.0.1", 1, true},
		{"alice", 0, true},
		{"Émile", 0, false}, // a letter before it
		{"", 0, true},
	}
	for _, c := range cases {
		i := -1
		for k := 0; k <= c.at; k++ {
			j := strings.Index(text[i+1:], c.v)
			if j < 0 {
				t.Fatalf("%q occurs fewer than %d times", c.v, c.at+1)
			}
			i += 1 + j
		}
		if got := checkCoveredAt(t, text, i, i+len(c.v)); got != c.want {
			t.Errorf("CoveredAt(text, %q, %d) = %v, want %v", c.v, i, got, c.want)
		}
	}
}
