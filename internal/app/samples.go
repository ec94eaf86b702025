package app

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
)

// Sample is a file of raw log records kept beside a rule file: the rules
// of that file that raise alerts must all fire on a positive sample's
// records, taken in order, and none on a negative sample's.
//
// Beside rules/ssh.yml, the samples are rules/ssh.positive.log and
// rules/ssh.negative.log, whose records are recognised as `mamori parse`
// recognises lines, or rules/ssh.positive.DATASET.log (and .negative.)
// for records of a named dataset.
type Sample struct {
	// File names the sample; its records are read from it unless Records
	// holds them (a source whose samples are embedded, or drawn from
	// elsewhere).
	File     string
	Positive bool
	// Dataset is the records' dataset; "" recognises each record.
	Dataset string
	Records [][]byte
}

// fileSamples finds the samples beside a rule file.
func fileSamples(ruleFile string) ([]Sample, error) {
	dir := filepath.Dir(ruleFile)
	stem := strings.TrimSuffix(filepath.Base(ruleFile), filepath.Ext(ruleFile))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("samples of %s: %w", ruleFile, err)
	}
	var out []Sample
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".log") {
			continue
		}
		for _, kind := range []string{"positive", "negative"} {
			prefix := stem + "." + kind
			rest, ok := strings.CutPrefix(strings.TrimSuffix(name, ".log"), prefix)
			if !ok || (rest != "" && !strings.HasPrefix(rest, ".")) || rest == "." {
				continue
			}
			out = append(out, Sample{File: filepath.Join(dir, name), Positive: kind == "positive",
				Dataset: strings.TrimPrefix(rest, ".")})
		}
	}
	return out, nil
}

// SampleResult is the outcome of one sample.
type SampleResult struct {
	Sample Sample
	// Rules are the rules checked: those of the sample's rule file that
	// raise alerts.
	Rules  []string
	Events int
	// Failures say what went wrong; none when the sample passed.
	Failures []string
}

// Passed reports whether the sample passed.
func (r SampleResult) Passed() bool { return len(r.Failures) == 0 }

// SampleReport is what `mamori rules test` found.
type SampleReport struct {
	Results []SampleResult
	// Untested are rules that raise alerts but have no samples.
	Untested []string
}

// Failed counts the samples that failed.
func (r SampleReport) Failed() int {
	n := 0
	for _, s := range r.Results {
		if !s.Passed() {
			n++
		}
	}
	return n
}

// TestSamples runs every rule that has samples against them, each sample
// with fresh engines over all the loaded rules (so that a correlation's
// rules may live in other files). A sample that several rules share (the
// rules of one file) is run once, for all of them. only, when set, names
// the one rule to test. reg parses the records; now is their receive time.
func (b *RuleBook) TestSamples(reg *dataset.Registry, only string, now time.Time) (SampleReport, error) {
	var rep SampleReport
	var want *sigma.Rule
	if only != "" {
		r, ok := b.Find(only)
		if !ok {
			return rep, fmt.Errorf("rule %q: %w", only, api.ErrUnknownRule)
		}
		want = r
		for _, info := range b.Report.Rules {
			if info.Rule == r && !info.Emits {
				return rep, fmt.Errorf("rule %q raises no alert of its own (a correlation counts it): test the correlation", only)
			}
		}
	}
	type group struct {
		sample Sample
		rules  []*sigma.Rule
	}
	groups := map[string]*group{}
	var order []string
	inactive := map[string]string{}
	for _, info := range b.Report.Rules {
		r := info.Rule
		// Rules that raise no alert of their own are tested through the
		// correlations that count them.
		if (want != nil && r != want) || !info.Emits {
			continue
		}
		if !info.Active {
			inactive[r.Ref()] = info.Inactive
		}
		var samples []Sample
		if find := b.samples[r.Ref()]; find != nil {
			var err error
			if samples, err = find(r); err != nil {
				return rep, err
			}
		}
		if len(samples) == 0 {
			rep.Untested = append(rep.Untested, r.Title)
			continue
		}
		for _, s := range samples {
			key := fmt.Sprintf("%s\x00%v", s.File, s.Positive)
			g, ok := groups[key]
			if !ok {
				g = &group{sample: s}
				groups[key] = g
				order = append(order, key)
			}
			g.rules = append(g.rules, r)
		}
	}
	sort.Strings(order)
	for _, k := range order {
		g := groups[k]
		rep.Results = append(rep.Results, b.testSample(reg, g.sample, g.rules, inactive, now))
	}
	if want != nil && len(rep.Results) == 0 {
		return rep, fmt.Errorf("rule %q has no samples (beside %s)", only, want.File)
	}
	return rep, nil
}

func (b *RuleBook) testSample(reg *dataset.Registry, s Sample, rules []*sigma.Rule, inactive map[string]string, now time.Time) SampleResult {
	res := SampleResult{Sample: s}
	for _, r := range rules {
		res.Rules = append(res.Rules, r.Title)
	}
	evs, lines, problems := sampleEvents(reg, s, now)
	res.Failures = append(res.Failures, problems...)
	res.Events = len(evs)
	fired := map[string]string{} // the event id of each rule's first match, by rule reference
	for _, m := range b.NewEngines().Evaluate(evs) {
		if _, ok := fired[m.Rule.Ref()]; !ok {
			fired[m.Rule.Ref()] = m.EventID
		}
	}
	for _, r := range rules {
		id, ok := fired[r.Ref()]
		switch {
		case s.Positive && !ok:
			why := ""
			if reason, off := inactive[r.Ref()]; off {
				why = " (the rule is inactive: " + reason + ")"
			}
			res.Failures = append(res.Failures, fmt.Sprintf("rule %q did not fire%s", r.Title, why))
		case !s.Positive && ok:
			res.Failures = append(res.Failures, fmt.Sprintf("rule %q fired (on line %d)", r.Title, lines[id]))
		}
	}
	return res
}

// sampleEvents parses a sample's records as the processor does, and
// reports the records that cannot be used; lines gives each event's line.
func sampleEvents(reg *dataset.Registry, s Sample, now time.Time) (evs []*event.Event, lines map[string]int, problems []string) {
	records := s.Records
	if records == nil {
		data, err := os.ReadFile(s.File)
		if err != nil {
			return nil, nil, []string{err.Error()}
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			records = append(records, bytes.Clone(sc.Bytes()))
		}
		if err := sc.Err(); err != nil {
			return nil, nil, []string{fmt.Sprintf("%s: %v", s.File, err)}
		}
	}
	var fixed *dataset.Dataset
	if s.Dataset != "" {
		ds, ok := reg.Lookup(s.Dataset)
		if !ok {
			return nil, nil, []string{fmt.Sprintf("unknown dataset %q (from the file name)", s.Dataset)}
		}
		fixed = &ds
	}
	lines = map[string]int{}
	var header []byte
	for i, raw := range records {
		line := i + 1
		text := bytes.TrimRight(raw, "\r")
		if len(bytes.TrimSpace(text)) == 0 {
			continue
		}
		rec := dataset.Record{Data: text, Received: now}
		ds := fixed
		if ds == nil {
			d, ok := reg.Detect(rec.Data)
			if !ok {
				problems = append(problems, fmt.Sprintf("line %d: no dataset recognises it (name the dataset in the file name: NAME.%s.DATASET.log)", line, kind(s)))
				continue
			}
			ds = &d
		}
		if ds.HeaderLine {
			if header == nil {
				header = rec.Data
			}
			rec.Header = header
		}
		parsed, failed := pipeline.Normalize(*ds, rec, s.File, int64(i), now)
		if failed {
			for _, e := range parsed {
				problems = append(problems, fmt.Sprintf("line %d: does not parse as %s: %s", line, ds.Name, e.String(event.FieldError)))
			}
			continue
		}
		for _, e := range parsed {
			lines[e.String(event.FieldID)] = line
		}
		evs = append(evs, parsed...)
	}
	return evs, lines, problems
}

func kind(s Sample) string {
	if s.Positive {
		return "positive"
	}
	return "negative"
}
