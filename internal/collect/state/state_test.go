package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type cursor struct {
	Next  time.Time `json:"next"`
	Pages int       `json:"pages"`
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "collect"))
	if err != nil {
		t.Fatal(err)
	}
	var c cursor
	found, err := s.Load("gw", &c)
	if err != nil || found {
		t.Fatalf("empty store: found=%v err=%v", found, err)
	}
	want := cursor{Next: time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC), Pages: 3}
	if err := s.Save("gw", want); err != nil {
		t.Fatal(err)
	}
	var got cursor
	if found, err := s.Load("gw", &got); err != nil || !found {
		t.Fatalf("load: found=%v err=%v", found, err)
	}
	if !got.Next.Equal(want.Next) || got.Pages != want.Pages {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	// A second save replaces the first and leaves no temporary files.
	want.Pages = 4
	if err := s.Save("gw", want); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "gw.json" {
		t.Fatalf("directory holds %v, want only gw.json", entries)
	}
	if _, err := s.Load("gw", &got); err != nil || got.Pages != 4 {
		t.Fatalf("after second save: %+v, %v", got, err)
	}
}

func TestCorruptFileIsAnError(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"truncated":  `{"next":"2024-05-01T10:00:00Z","pa`,
		"wrong-type": `{"next":"yesterday"}`,
		"trailing":   `{"pages":1} {"pages":2}`,
		"empty":      ``,
	} {
		if err := os.WriteFile(s.Path(name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var c cursor
		found, err := s.Load(name, &c)
		if err == nil {
			t.Errorf("%s: loaded %+v (found=%v), want an error", name, c, found)
			continue
		}
		if !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), s.Path(name)) {
			t.Errorf("%s: error %q does not say which file is corrupt", name, err)
		}
	}
}

func TestValidName(t *testing.T) {
	for _, n := range []string{"googleworkspace", "tail-kea.log", "a_1"} {
		if err := ValidName(n); err != nil {
			t.Errorf("ValidName(%q) = %v", n, err)
		}
	}
	for _, n := range []string{"", ".hidden", "../x", "A", "a/b", strings.Repeat("a", 101)} {
		if err := ValidName(n); err == nil {
			t.Errorf("ValidName(%q) accepted", n)
		}
	}
}
