package tokens

import (
	"bufio"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/testutil"
)

// corpusLines returns every line of the real log samples, by file.
func corpusLines(t *testing.T) map[string][]string {
	t.Helper()
	root := filepath.Join(testutil.SharedDir(t), "corpus")
	out := map[string][]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".log") {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		rel, _ := filepath.Rel(root, path)
		for sc.Scan() {
			if sc.Text() != "" {
				out[rel] = append(out[rel], sc.Text())
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	if len(out) == 0 {
		t.Skip("no .log files in the corpus")
	}
	return out
}

// Every whole-word fragment of every real line (up to 64 bytes), and a
// sample of cut fragments, gives only tokens that the line's filter holds.
func TestCorpusNoFalseNegatives(t *testing.T) {
	for file, lines := range corpusLines(t) {
		for n, line := range lines {
			b := NewBuilder(0.01)
			b.AddString(line)
			f := b.Build()
			l := lowerText(line)
			v := newTextView(l)
			for i := 0; i < len(l); i++ {
				for j := i + 1; j <= len(l) && j-i <= 64; j++ {
					word := v.closedStart(i) && v.closedEnd(j)
					if !word && j-i != 7 && j-i != 23 {
						continue
					}
					frag := l[i:j]
					if word && !f.MayContainTerm(frag) {
						t.Fatalf("%s:%d: the filter rules out %q, which the line holds as whole words", file, n+1, frag)
					}
					for _, tok := range FragmentTokens(frag, true, true) {
						if !f.MayContain(HashString(tok)) {
							t.Fatalf("%s:%d: substring %q gives %q, which the filter lacks", file, n+1, frag, tok)
						}
					}
				}
			}
		}
	}
}

// Terms an analyst would type find the Deep Security lines that hold them.
func TestCorpusDeepSecurityTerms(t *testing.T) {
	path := testutil.CorpusFile(t, "trendmicro_deepsecurity/test-trend-micro.raw-cef.log")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	terms := map[int][]string{
		0: {"2001:db8::5", "10.52.116.160", "admin", "User Signed In", "deep security manager"},
		1: {"eicar.exe", "44D88612FEA8A8F36DE82E1278ABB02F", "Ransom_CERBER.BZC", "Eicar_test_file", "Users"},
		2: {"heartbeatSync.sh", "192.168.33.128", "notWhitelisted", "detectOnly", "/home/user1/Desktop"},
		3: {"00:50:56:F5:7F:47", "tcp port 80"},
	}
	for i, want := range terms {
		if i >= len(lines) {
			t.Fatalf("the sample has %d lines", len(lines))
		}
		b := NewBuilder(0.01)
		b.AddString(lines[i])
		f := b.Build()
		for _, term := range want {
			if !strings.Contains(strings.ToLower(lines[i]), strings.ToLower(term)) {
				t.Fatalf("line %d does not hold %q; fix the test", i+1, term)
			}
			if len(QueryTokens(term)) == 0 || !f.MayContainTerm(term) {
				t.Errorf("line %d: %q gives tokens %q, not all in the line's filter", i+1, term, QueryTokens(term))
			}
		}
	}
}
