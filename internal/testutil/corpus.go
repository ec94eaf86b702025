// Package testutil holds helpers shared by tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedDir returns the project's shared folder (../shared beside the
// repository), or skips the test, saying why, when it is absent.
func SharedDir(t testing.TB) string {
	t.Helper()
	root := RepoRoot(t)
	dir := filepath.Join(root, "..", "shared")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared samples not available at %s (%v): this test reads real logs in place", dir, err)
	}
	return dir
}

// CorpusFile returns the path of a file under ../shared/corpus, skipping the
// test when it is absent.
func CorpusFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(SharedDir(t), "corpus", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus file %s not available: %v", p, err)
	}
	return p
}

// RepoRoot returns the directory holding go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("go.mod not found above the test's directory")
		}
		dir = parent
	}
}
