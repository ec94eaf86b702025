package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// requireChromium finds Debian's chromium (MAMORI_CHROMIUM names another
// binary). Without it the browser tests skip, or fail under
// MAMORI_REQUIRE_SENDERS (CI), as the sender tests do.
func requireChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("MAMORI_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("MAMORI_REQUIRE_SENDERS") != "" {
		t.Fatal("chromium not installed (scripts/install-test-deps.sh installs it)")
	}
	t.Skip("chromium not installed; run scripts/install-test-deps.sh")
	return ""
}

// browser is one headless Chromium tab.
type browser struct {
	t     *testing.T
	ctx   context.Context
	shots string // where screenshots go
}

// newBrowser starts Chromium with a fresh profile and no network of its
// own (the machine's is closed: no component updates, sync or QUIC).
func newBrowser(t *testing.T) *browser {
	t.Helper()
	chrome := requireChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first run starts the browser; it lives as long as ctx.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &browser{t: t, ctx: ctx, shots: screenshotDir(t)}
}

// screenshotDir is MAMORI_SCREENSHOTS (relative to the repository root)
// or a temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("MAMORI_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

const browserStep = 20 * time.Second

// do runs actions, failing the test with what was being done.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v\n%s", what, err, b.describe())
	}
}

// eval evaluates a JavaScript expression and decodes its value into out.
func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.t.Fatalf("evaluate %s: %s: %v", expr, raw, err)
	}
}

// waitFor waits until a JavaScript condition holds. A page load while
// waiting (a login, a link) starts the wait again on the new page.
func (b *browser) waitFor(what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		left := time.Until(deadline)
		ctx, cancel := context.WithTimeout(b.ctx, left+5*time.Second)
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(left)))
		cancel()
		if err == nil {
			return
		}
		reloaded := strings.Contains(err.Error(), "navigated") || strings.Contains(err.Error(), "context was destroyed") ||
			strings.Contains(err.Error(), "Cannot find context")
		if !reloaded || time.Now().After(deadline) {
			b.t.Fatalf("waiting for %s (%s): %v\n%s", what, cond, err, b.describe())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// describe is the page's address and text, for failures.
func (b *browser) describe() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText.slice(0, 3000)`))
	if err != nil {
		return "(page unreadable: " + err.Error() + ")"
	}
	return s
}

// location returns the page's path and query.
func (b *browser) location() string {
	var s string
	b.eval(`location.pathname + location.search`, &s)
	return s
}

// shot saves a screenshot of the viewport as name.png.
func (b *browser) shot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, browserStep)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
}

// drag presses the mouse at (x0, y), moves it to x1 and releases it.
func (b *browser) drag(x0, x1, y float64) {
	b.t.Helper()
	left := chromedp.ButtonType(input.MouseButtonLeft)
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0, y),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y, left, chromedp.ClickCount(1))}
	for k := 1; k <= 5; k++ {
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0+(x1-x0)*float64(k)/5, y, left, buttons(1)))
	}
	steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x1, y, left, chromedp.ClickCount(1)))
	b.do("drag", steps...)
}

// typeKey presses and releases one printable key as a keyboard does: the
// key down carries the text, so that a page that cancels the key down
// keeps the character out of the focused field, as in a real browser.
func (b *browser) typeKey(key, code string, keyCode int64) {
	b.t.Helper()
	b.do("press "+key, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, p := range []input.DispatchKeyEventParams{
			{Type: input.DispatchKeyEventTypeKeyDown, Key: key, Code: code, Text: key, WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode},
			{Type: input.DispatchKeyEventTypeKeyUp, Key: key, Code: code, WindowsVirtualKeyCode: keyCode, NativeVirtualKeyCode: keyCode},
		} {
			if _, err := cdp.Call(ctx, t, input.DispatchKeyEvent, p); err != nil {
				return err
			}
		}
		return nil
	}))
}

// buttons sets the pressed-buttons mask of a mouse event.
func buttons(mask int64) chromedp.MouseOption {
	return func(p *input.DispatchMouseEventParams) {
		p.Buttons = mask
	}
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// rowTexts is a JavaScript expression listing a column of the result rows.
func rowTexts(sel, cell string) string {
	return `[...document.querySelectorAll(` + jsString(sel) + `)].map(r => r.querySelector(` + jsString(cell) + `).textContent)`
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.Contains(x, s) {
			return true
		}
	}
	return false
}
