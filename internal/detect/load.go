package detect

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mamori-sec/mamori/internal/detect/sigma"
)

// Report says what loading a set of rule files gave.
type Report struct {
	Files int
	// Loaded rules parsed and compiled; Active ones run on some dataset.
	Loaded, Active int
	// Rejected are the rules (or whole files) that did not load.
	Rejected []Rejection
	// Rules describe every loaded rule.
	Rules []RuleInfo
}

// Total is every rule found: loaded and rejected.
func (r *Report) Total() int { return r.Loaded + len(r.Rejected) }

// Load reads rule files (a directory means every .yml and .yaml file
// below it, in name order), parses and compiles them. It fails only when a
// path cannot be read; rules that do not load are in the report with
// their reasons.
func Load(paths []string, opts Options) (*Engine, *Report, error) {
	files, err := ruleFiles(paths)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{Files: len(files)}
	var rules []*sigma.Rule
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, fmt.Errorf("detect: %w", err)
		}
		rs, perr := sigma.Parse(f, data)
		rules = append(rules, rs...)
		rep.Rejected = append(rep.Rejected, parseRejections(f, perr)...)
	}
	eng, rejected := New(rules, opts)
	rep.Rejected = append(rep.Rejected, rejected...)
	rep.Rules = eng.Rules()
	rep.Loaded = len(rep.Rules)
	for _, r := range rep.Rules {
		if r.Active {
			rep.Active++
		}
	}
	sort.SliceStable(rep.Rejected, func(i, j int) bool {
		a, b := rep.Rejected[i], rep.Rejected[j]
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	return eng, rep, nil
}

// parseRejections turns Parse's joined errors into rejections.
func parseRejections(file string, err error) []Rejection {
	if err == nil {
		return nil
	}
	var out []Rejection
	var list interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &list) {
		errs = list.Unwrap()
	}
	for _, e := range errs {
		if se, ok := sigma.AsError(e); ok {
			out = append(out, Rejection{File: file, Line: se.Line, Title: se.Rule, Reason: se.Reason()})
			continue
		}
		out = append(out, Rejection{File: file, Reason: e.Error()})
	}
	return out
}

// ruleFiles expands directories into their rule files.
func ruleFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("detect: %w", err)
		}
		if !info.IsDir() {
			out = append(out, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			if ext := strings.ToLower(filepath.Ext(path)); ext == ".yml" || ext == ".yaml" {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("detect: %w", err)
		}
		sort.Strings(found)
		out = append(out, found...)
	}
	return out, nil
}
