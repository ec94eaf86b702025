package console

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"
)

// TestPageHasNoInlineCode holds the console to what its Content-Security-
// Policy allows: scripts and styles from files only.
func TestPageHasNoInlineCode(t *testing.T) {
	b, err := fs.ReadFile(Files(), "index.html")
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, m := range regexp.MustCompile(`(?is)<script([^>]*)>(.*?)</script>`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
			t.Errorf("inline script: %s", m[0])
		}
	}
	if regexp.MustCompile(`(?i)\son[a-z]+\s*=`).MatchString(page) || regexp.MustCompile(`(?i)\sstyle\s*=`).MatchString(page) ||
		strings.Contains(strings.ToLower(page), "<style") {
		t.Error("index.html has an inline handler or style")
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(page, -1) {
		if _, err := fs.Stat(Files(), strings.TrimPrefix(m[1], "/")); err != nil {
			t.Errorf("index.html names %s: %v", m[1], err)
		}
	}
}

// TestScriptsWriteNoMarkup: log data reaches the page as text only. No
// script parses HTML, evaluates strings, or sets event handlers as
// attributes; and every module a script imports exists.
func TestScriptsWriteNoMarkup(t *testing.T) {
	forbidden := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setAttribute\(\s*['"]on|DOMParser|createContextualFragment`)
	imports := regexp.MustCompile(`(?m)^import .* from '(\./[^']+)';$`)
	n := 0
	err := fs.WalkDir(Files(), "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".js") {
			return err
		}
		n++
		b, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		src := string(b)
		if loc := forbidden.FindStringIndex(src); loc != nil {
			t.Errorf("%s: %q", p, src[loc[0]:loc[1]])
		}
		for _, m := range imports.FindAllStringSubmatch(src, -1) {
			if _, err := fs.Stat(Files(), path.Join(path.Dir(p), m[1])); err != nil {
				t.Errorf("%s imports %s: %v", p, m[1], err)
			}
		}
		return nil
	})
	if err != nil || n < 5 {
		t.Fatalf("walked %d scripts: %v", n, err)
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	for path, want := range map[string]int{"/": 200, "/alerts/x": 200, "/assets/app.css": 200, "/assets/missing.css": 404, "/assets": 200} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want || resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: %d %v", path, resp.StatusCode, resp.Header)
		}
	}
	if !strings.Contains(ContentSecurityPolicy, "script-src 'self'") || strings.Contains(ContentSecurityPolicy, "unsafe") {
		t.Errorf("policy %q", ContentSecurityPolicy)
	}
}
