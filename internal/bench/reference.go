package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The brute-force reference: decompress the raw data and grep it, as an
// analyst without an index would. Any search mamori answers must beat it.

// refScript runs zstd into rg: $1 is the needle, the rest the files. rg
// searches case-insensitively for the fixed string, as mamori's keywords
// match, and counts matching lines.
const refScript = `n=$1; shift; zstd -qdc -- "$@" | rg -c -i -F -e "$n"`

// RefCommand is the reference command as a person would type it.
const RefCommand = "zstd -dc FILES.zst | rg -c -i -F NEEDLE"

// Reference holds the reference timings, or why they were skipped.
type Reference struct {
	Command string      `json:"command"`
	Skipped string      `json:"skipped,omitempty"`
	Results []RefResult `json:"results,omitempty"`
}

// RefResult is one needle's reference search.
type RefResult struct {
	Needle string `json:"needle"`
	Lines  int64  `json:"lines"` // lines that contain it
	Runs   int    `json:"runs"`
	Wall   Stats  `json:"wall_ms"`
}

// refNeedles are searched by the reference: the planted needles, and the
// text of the query set's other searches ("cs1=..." is how the vendor
// field query's value appears in the raw line).
func refNeedles(m *Manifest) []string {
	return []string{m.Needles.IP, m.Needles.User, m.Needles.Token, "cs1=" + vendorFieldValue, commonWord}
}

func runReference(ctx context.Context, dir string, m *Manifest, runs int) Reference {
	ref := Reference{Command: RefCommand}
	for _, tool := range []string{"sh", "zstd", "rg"} {
		if _, err := exec.LookPath(tool); err != nil {
			ref.Skipped = tool + " is not installed"
			return ref
		}
	}
	var files []string
	if m.LineEvents > 0 {
		files = append(files, filepath.Join(dir, linesZstName))
	}
	if m.JSONEvents > 0 {
		files = append(files, filepath.Join(dir, jsonZstName))
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			ref.Skipped = "compressed raw data missing: " + err.Error()
			return ref
		}
	}
	for _, needle := range refNeedles(m) {
		r := RefResult{Needle: needle, Runs: runs}
		var wall []float64
		for range runs {
			lines, d, err := grepCount(ctx, needle, files)
			if err != nil {
				ref.Skipped = err.Error()
				ref.Results = nil
				return ref
			}
			r.Lines = lines
			wall = append(wall, ms(d))
		}
		r.Wall = summarise(wall)
		ref.Results = append(ref.Results, r)
	}
	return ref
}

// grepCount runs the reference once and returns the matching lines.
func grepCount(ctx context.Context, needle string, files []string) (int64, time.Duration, error) {
	args := append([]string{"-c", refScript, "sh", needle}, files...)
	cmd := exec.CommandContext(ctx, "sh", args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	text := strings.TrimSpace(out.String())
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 && text == "" && errOut.Len() == 0 {
		return 0, d, nil // rg found nothing
	}
	if err != nil {
		return 0, d, fmt.Errorf("reference search for %q: %v: %s", needle, err, strings.TrimSpace(errOut.String()))
	}
	n, err := strconv.ParseInt(text, 10, 64)
	if err != nil {
		return 0, d, fmt.Errorf("reference search for %q: unexpected output %q", needle, text)
	}
	return n, d, nil
}
