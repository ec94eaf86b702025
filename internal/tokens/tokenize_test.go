package tokens

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func tokensOf(text string) []string {
	var out []string
	var t Tokenizer
	t.TokensString(text, func(tok []byte) { out = append(out, string(tok)) })
	return out
}

func TestTokens(t *testing.T) {
	long := strings.Repeat("a", MaxTokenLen)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"empty", "", nil},
		{"ipv4 parts and pairs", "from 203.0.113.77 port 22",
			[]string{"from", "203", "203.0", "113", "0.113", "77", "113.77", "port", "22"}},
		{"ipv4 with port", "[10.0.0.1]:443", []string{"10", "10.0", "0.0", "0.1", "443"}},
		{"ipv6", "2001:db8::1", []string{"2001", "db8", "2001:db8", "db8::1"}},
		{"ipv4-mapped ipv6", "::ffff:10.0.0.1", []string{"ffff", "10", "ffff:10", "10.0", "0.0", "0.1"}},
		{"ipv6 zone", "fe80::1%eth0", []string{"fe80", "fe80::1", "eth0"}},
		{"email", "alice@Example.com", []string{"alice", "example", "alice@example", "com", "example.com"}},
		{"url path", "GET /_vti_bin/owssvr.dll HTTP/1.1",
			[]string{"get", "vti", "bin", "vti_bin", "owssvr", "dll", "owssvr.dll", "http", "1.1"}},
		{"windows path", `C:\Users\Alice\eicar.exe`, []string{"users", "alice", "eicar", "exe", "eicar.exe"}},
		{"cef", "CEF:0|Trend Micro|Deep Security Agent|1.2.3|600|User Signed In|3|act=Reset src=10.0.0.1",
			[]string{"cef", "cef:0", "trend", "micro", "deep", "security", "agent", "1.2", "2.3", "600", "user", "signed", "in",
				"act", "reset", "src", "10", "10.0", "0.0", "0.1"}},
		{"json", `{"userName":"alice","ok":true}`, []string{"username", "alice", "ok", "true"}},
		{"syslog", "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8",
			[]string{"34", "oct", "11", "22", "14", "22:14", "15", "14:15", "mymachine", "su", "su", "root", "failed", "for",
				"lonvick", "on", "dev", "pts"}},
		{"mac", "00:50:56:F5:7F:47",
			[]string{"00", "50", "00:50", "56", "50:56", "f5", "56:f5", "7f", "f5:7f", "47", "7f:47"}},
		{"mixed case host", "WEB-01.Corp.LOCAL", []string{"web", "01", "web-01", "corp", "01.corp", "local", "corp.local"}},
		{"separators", `ab=cd,ef|gh(ij)[kl]"mn"/op\qr{st}<uv>wx;yz`,
			[]string{"ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr", "st", "uv", "wx", "yz"}},
		{"edge joiners trimmed", "end. -start- ...x... _vti_bin :", []string{"end", "start", "vti", "bin", "vti_bin"}},
		{"one-character parts skipped, pairs kept", "a b c.d", []string{"c.d"}},
		{"unicode lower-cased", "ÀLICE Straße ΣΑΣ", []string{"àlice", "straße", "σασ"}},
		{"combining mark inside a word", "cafe\u0301 x", []string{"cafe\u0301"}},
		{"japanese", "ログイン失敗 ユーザー=太郎", []string{"ログイン失敗", "ユーザー", "太郎"}},
		{"one non-ASCII character skipped", "é ab", []string{"ab"}},
		{"symbols separate", "alice→bob ©carol", []string{"alice", "bob", "carol"}},
		{"invalid utf-8 separates", "ab\xffcd\xc3", []string{"ab", "cd"}},
		{"longest kept", long, []string{long}},
		{"too long skipped", long + "a", nil},
		{"short parts of a long compound kept", "x." + long + "b.dll", []string{"dll"}},
		{"dns tunnelling name", strings.Repeat("a", 200) + ".evil.com", []string{"evil", "com", "evil.com"}},
		{"pair too long skipped", long[:100] + "." + long[:30], []string{long[:100], long[:30]}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tokensOf(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("Tokens(%q)\n got %q\nwant %q", tt.text, got, tt.want)
			}
			var fromBytes []string
			Tokens([]byte(tt.text), func(tok []byte) { fromBytes = append(fromBytes, string(tok)) })
			if !slices.Equal(fromBytes, tt.want) {
				t.Errorf("Tokens([]byte(%q)) = %q, want %q", tt.text, fromBytes, tt.want)
			}
		})
	}
}

func TestQueryTokens(t *testing.T) {
	tests := []struct {
		term string
		want []string
	}{
		{"failed password", []string{"password", "failed"}},
		{"10.0.0.1", []string{"10.0", "0.0", "0.1", "10"}},
		{"owssvr.dll", []string{"owssvr.dll", "owssvr", "dll"}},
		{"/_vti_bin/owssvr.dll", []string{"owssvr.dll", "vti_bin", "owssvr", "vti", "bin", "dll"}},
		{"alice@example.com", []string{"alice@example", "example.com", "example", "alice", "com"}},
		{"Alice", []string{"alice"}},
		{"_vti_bin", []string{"vti_bin", "vti", "bin"}},
		{"su su", []string{"su"}},
		{"a", nil},
		{"*", nil},
		{"", nil},
	}
	for _, tt := range tests {
		if got := QueryTokens(tt.term); !slices.Equal(got, tt.want) {
			t.Errorf("QueryTokens(%q) = %q, want %q", tt.term, got, tt.want)
		}
	}
}

func TestFragmentTokens(t *testing.T) {
	tests := []struct {
		fragment           string
		openStart, openEnd bool
		want               []string
	}{
		{"x.owssvr.dll.y", true, true, []string{"owssvr.dll", "owssvr", "dll"}},
		{"alice", true, true, nil},
		{"alice", false, false, []string{"alice"}},
		{"ssvr.dll", true, false, []string{"dll"}},
		{"ssvr.dll", false, true, []string{"ssvr"}},
		{".corp.example.com", true, false, []string{"corp.example", "example.com", "example", "corp", "com"}},
		{"web-0", false, true, []string{"web"}},
		{"ed password fo", true, true, []string{"password"}},
		{"ed password ", true, true, []string{"password"}},
		// A fragment cut inside a multi-byte rune: the cut rune may be a
		// letter in the text, so the part next to it is open too.
		{"\xa9alice bob", true, false, []string{"bob"}},
		{"bob alice\xc3", false, true, []string{"bob"}},
		{"bob alice\xc3", false, false, []string{"alice", "bob"}},
	}
	for _, tt := range tests {
		if got := FragmentTokens(tt.fragment, tt.openStart, tt.openEnd); !slices.Equal(got, tt.want) {
			t.Errorf("FragmentTokens(%q, %v, %v) = %q, want %q", tt.fragment, tt.openStart, tt.openEnd, got, tt.want)
		}
	}
}

// The tokenizer finds compounds on the raw text and lower-cases only word
// runes; that equals tokenizing the lower-cased text only if lower-casing
// keeps every rune's class and is idempotent. Check it for every rune of the
// Unicode tables this build uses.
func TestLowerKeepsClass(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		l := unicode.ToLower(r)
		if isWord(r) != isWord(l) {
			t.Errorf("%U is a word character: %v, its lower case %U: %v", r, isWord(r), l, isWord(l))
		}
		if unicode.ToLower(l) != l {
			t.Errorf("lower case of %U is %U, whose lower case is %U", r, l, unicode.ToLower(l))
		}
	}
}

// isWord is the tokenizer's notion of a word character, for any rune.
func isWord(r rune) bool {
	if r < utf8.RuneSelf {
		return classes[r] == clsWord
	}
	return isWordRune(r)
}

// lowerText lower-cases s rune by rune as the tokenizer does, keeping
// invalid bytes.
func lowerText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			b.WriteByte(s[i])
		} else {
			b.WriteRune(unicode.ToLower(r))
		}
		i += w
	}
	return b.String()
}

// textView knows, for a lower-cased text, where its runes start and whether
// the rune before or at each start is a word character.
type textView struct {
	l        string
	boundary []bool // boundary[i]: a rune starts at i (or i == len)
	wordAt   []bool // wordAt[i]: the rune starting at i is a word character
	wordEnd  []bool // wordEnd[i]: the rune ending at i is a word character
}

func newTextView(l string) textView {
	v := textView{l: l, boundary: make([]bool, len(l)+1), wordAt: make([]bool, len(l)+1), wordEnd: make([]bool, len(l)+1)}
	for i := 0; i < len(l); {
		r, w := utf8.DecodeRuneInString(l[i:])
		word := r != utf8.RuneError && isWord(r)
		v.boundary[i] = true
		v.wordAt[i] = word
		v.wordEnd[i+w] = word
		i += w
	}
	v.boundary[len(l)] = true
	return v
}

// closedStart reports whether a fragment starting at i is known to have no
// word character before it.
func (v textView) closedStart(i int) bool { return v.boundary[i] && !v.wordEnd[i] }

// closedEnd reports whether a fragment ending at j is known to have no word
// character after it.
func (v textView) closedEnd(j int) bool { return v.boundary[j] && !v.wordAt[j] }

// checkFragments checks, for every fragment text[i:j] of the lower-cased
// text no longer than maxLen, that FragmentTokens gives only tokens of the
// text, both with open ends and with ends closed where the text allows it.
func checkFragments(t *testing.T, text string, maxLen int) {
	t.Helper()
	set := map[string]bool{}
	for _, tok := range tokensOf(text) {
		set[tok] = true
	}
	l := lowerText(text)
	v := newTextView(l)
	for i := 0; i < len(l); i++ {
		for j := i + 1; j <= len(l) && j-i <= maxLen; j++ {
			f := l[i:j]
			for _, tok := range FragmentTokens(f, true, true) {
				if !set[tok] {
					t.Fatalf("text %q: substring %q gives token %q, which the text lacks", text, f, tok)
				}
			}
			openStart, openEnd := !v.closedStart(i), !v.closedEnd(j)
			for _, tok := range FragmentTokens(f, openStart, openEnd) {
				if !set[tok] {
					t.Fatalf("text %q: fragment %q (open %v %v) gives token %q, which the text lacks", text, f, openStart, openEnd, tok)
				}
			}
			if !openStart && !openEnd {
				for _, tok := range QueryTokens(f) {
					if !set[tok] {
						t.Fatalf("text %q: word match %q gives token %q, which the text lacks", text, f, tok)
					}
				}
			}
		}
	}
}

// randomText draws text from an alphabet rich in the characters that matter
// to the tokenizer: letters of both cases, digits, joiners, separators,
// letters whose lower case has another length, marks, and invalid bytes.
func randomText(r *rand.Rand, n int) string {
	alphabet := []string{"a", "B", "z", "0", "7", ".", "_", "-", "@", ":", " ", "=", "/", "\"", "É", "ß", "Σ", "İ", "K",
		"Ⱥ", "太", "\u0301", "→", "\xff", "\xc3", "\xa9", "\xe2\x82", "ab", "10.0.0.1", "x@y.z"}
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

func TestFragmentsOfRandomTexts(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		checkFragments(t, randomText(r, 1+r.IntN(40)), 40)
	}
}

func TestTokensOfLowerCasedText(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		text := randomText(r, r.IntN(60))
		if got, want := tokensOf(lowerText(text)), tokensOf(text); !slices.Equal(got, want) {
			t.Fatalf("tokens of lower-cased %q = %q, of the text %q", text, got, want)
		}
	}
}

func TestTokenizerDoesNotAllocate(t *testing.T) {
	var tk Tokenizer
	n := 0
	count := func([]byte) { n++ }
	tk.TokensString(cefLine+" ÀLICE", count)
	if a := testing.AllocsPerRun(100, func() { tk.TokensString(cefLine+" ÀLICE", count) }); a != 0 {
		t.Errorf("TokensString allocates %v times a call", a)
	}
	b := []byte(cefLine)
	if a := testing.AllocsPerRun(100, func() { tk.Tokens(b, count) }); a != 0 {
		t.Errorf("Tokens allocates %v times a call", a)
	}
}

func TestTokenizerDropsHugeBuffers(t *testing.T) {
	var tk Tokenizer
	tk.TokensString(strings.Repeat("ab.", maxKeptBuf), func([]byte) {})
	if cap(tk.buf) > maxKeptBuf || cap(tk.spans) > maxKeptSpans {
		t.Errorf("kept buffers of %d bytes and %d spans after a huge text", cap(tk.buf), cap(tk.spans))
	}
}
