package testutil

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// update is the -update flag of every test binary that links testutil:
// `go test ./internal/datasets/... -update` rewrites the golden files.
var update = flag.Bool("update", false, "rewrite golden files (testdata/*/expected.json) from the current output")

// Updating reports whether the test run was asked to rewrite golden files.
func Updating() bool { return *update }

// Golden compares got with the golden file at path. With -update it writes
// got to path instead.
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden file: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run with -update to create it): %v", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotLines := bytes.Split(got, []byte("\n"))
	wantLines := bytes.Split(want, []byte("\n"))
	for i := 0; i < max(len(gotLines), len(wantLines)); i++ {
		var g, w []byte
		if i < len(gotLines) {
			g = gotLines[i]
		}
		if i < len(wantLines) {
			w = wantLines[i]
		}
		if !bytes.Equal(g, w) {
			t.Errorf("%s differs at line %d (run with -update to accept):\n got: %s\nwant: %s", path, i+1, g, w)
			return
		}
	}
}

// RunCases runs each golden case under dir: for every dir/<case>/input it
// calls render with the input's bytes and compares the result with
// dir/<case>/expected.json (see Golden).
func RunCases(t *testing.T, dir string, render func(t *testing.T, input []byte) []byte) {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "*", "input"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatalf("no golden cases under %s", dir)
	}
	for _, in := range inputs {
		caseDir := filepath.Dir(in)
		t.Run(filepath.Base(caseDir), func(t *testing.T) {
			input, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			Golden(t, filepath.Join(caseDir, "expected.json"), render(t, input))
		})
	}
}

// DatasetInputs lists the golden inputs of every dataset in the repository
// (internal/datasets/**/testdata/*/input), sorted: written by the datasets'
// authors from the vendors' documented formats, they are a realistic mix
// of every source for tests and benchmarks beyond the datasets' own.
func DatasetInputs(t testing.TB) []string {
	t.Helper()
	root := filepath.Join(RepoRoot(t), "internal", "datasets")
	var inputs []string
	for _, pattern := range []string{
		filepath.Join(root, "*", "testdata", "*", "input"),
		filepath.Join(root, "*", "*", "testdata", "*", "input"),
	} {
		found, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatalf("golden inputs: %v", err)
		}
		inputs = append(inputs, found...)
	}
	sort.Strings(inputs)
	return inputs
}
