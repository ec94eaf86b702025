package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mamori-sec/mamori/internal/api"
	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/builtin"
	"github.com/mamori-sec/mamori/internal/detect/fieldmap"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
	"github.com/mamori-sec/mamori/internal/event"
)

// RuleSource supplies rules to the detection engine. The configured Sigma
// files are one source; further sources (mamori's built-in rules) are
// added to RuleSources. All sources' rules are compiled into one engine,
// so a correlation may count rules of another source.
type RuleSource struct {
	// Name labels the source's rules in `mamori rules list` and the API.
	Name string
	// Load reads the rules. Rules that cannot be read are rejections in the
	// set; an error means the source as a whole cannot be read (a path
	// that does not exist), which stops the start.
	Load func() (RuleSet, error)
}

// RuleSet is what a source gives.
type RuleSet struct {
	// Rules are Sigma rules, compiled into the one Sigma engine.
	Rules    []*sigma.Rule
	Rejected []detect.Rejection
	// Engines, when set, builds the source's own engines, for rules that
	// are not Sigma (native rules), with the rules they reject. Each call
	// must return fresh engines, with empty correlation state.
	Engines func() ([]Evaluator, []detect.Rejection)
	// Files counts the files read.
	Files int
	// Samples returns a rule's test samples (for `mamori rules test`);
	// nil when the source keeps none.
	Samples func(r *sigma.Rule) ([]Sample, error)
}

// Evaluator is a rule engine: the Sigma engine (*detect.Engine), or a
// source's own (native rules).
type Evaluator interface {
	// Evaluate runs the rules over a batch and returns their matches.
	Evaluate(evs []*event.Event) []detect.Match
	// Rules describes the loaded rules.
	Rules() []detect.RuleInfo
}

// Engines are the engines of a rule book, evaluated together.
type Engines []Evaluator

// Evaluate runs every engine over the batch.
func (es Engines) Evaluate(evs []*event.Event) []detect.Match {
	if len(es) == 1 {
		return es[0].Evaluate(evs)
	}
	var out []detect.Match
	for _, e := range es {
		out = append(out, e.Evaluate(evs)...)
	}
	return out
}

// RuleSources lists the rule sources a configuration asks for.
func RuleSources(cfg config.Config) []RuleSource {
	sources := []RuleSource{SigmaFiles(cfg.Rules.Sigma)}
	if cfg.Rules.BuiltinOn() {
		sources = append([]RuleSource{BuiltinRules(builtin.Options{})}, sources...)
	}
	return sources
}

// SigmaFiles is the source of the configured Sigma files: each entry is a
// file, a directory (every .yml and .yaml file below it, in name order) or
// a glob pattern. An entry that names nothing is an error: a rule the user
// asked for is never silently missing.
func SigmaFiles(patterns []string) RuleSource {
	return RuleSource{Name: "sigma", Load: func() (RuleSet, error) {
		files, err := expandRuleFiles(patterns)
		if err != nil {
			return RuleSet{}, err
		}
		set := RuleSet{Files: len(files), Samples: func(r *sigma.Rule) ([]Sample, error) { return fileSamples(r.File) }}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return RuleSet{}, fmt.Errorf("rules: %w", err)
			}
			rules, perr := sigma.Parse(f, data)
			set.Rules = append(set.Rules, rules...)
			set.Rejected = append(set.Rejected, parseRejections(f, perr)...)
		}
		return set, nil
	}}
}

// expandRuleFiles turns files, directories and globs into rule files, each
// once, in the order given.
func expandRuleFiles(patterns []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(f string) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	for _, p := range patterns {
		paths := []string{p}
		if strings.ContainsAny(p, "*?[") {
			m, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("rules.sigma: %q: %w", p, err)
			}
			if len(m) == 0 {
				return nil, fmt.Errorf("rules.sigma: %q matches no file", p)
			}
			paths = m
		}
		for _, path := range paths {
			info, err := os.Stat(path)
			if err != nil {
				return nil, fmt.Errorf("rules.sigma: %w", err)
			}
			if !info.IsDir() {
				add(path)
				continue
			}
			var found []string
			err = filepath.WalkDir(path, func(f string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				if !d.IsDir() && isRuleFile(f) {
					found = append(found, f)
				}
				return nil
			})
			if err != nil {
				return nil, fmt.Errorf("rules.sigma: %w", err)
			}
			sort.Strings(found)
			for _, f := range found {
				add(f)
			}
		}
	}
	return out, nil
}

func isRuleFile(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yml" || ext == ".yaml"
}

// parseRejections turns sigma.Parse's joined errors into rejections.
func parseRejections(file string, err error) []detect.Rejection {
	if err == nil {
		return nil
	}
	errs := []error{err}
	var list interface{ Unwrap() []error }
	if errors.As(err, &list) {
		errs = list.Unwrap()
	}
	var out []detect.Rejection
	for _, e := range errs {
		if se, ok := sigma.AsError(e); ok {
			out = append(out, detect.Rejection{File: file, Line: se.Line, Title: se.Rule, Reason: se.Reason()})
			continue
		}
		out = append(out, detect.Rejection{File: file, Reason: e.Error()})
	}
	return out
}

// RuleBook is a loaded set of rules: the live engines, the load report,
// and what is needed to build fresh engines over the same rules (for runs
// over history and sample tests, whose correlation state must not mix
// with the stream's).
type RuleBook struct {
	// Engines evaluate the stream: the Sigma engine first, then the
	// sources' own.
	Engines Engines
	Report  *detect.Report
	// UnknownDisabled are rules.disabled entries that no loaded rule
	// answers to (a typo, or a rule that was removed).
	UnknownDisabled []string

	rules    []*sigma.Rule
	opts     detect.Options
	makers   []func() ([]Evaluator, []detect.Rejection)
	disabled map[string]bool
	// source and samples are by rule reference (Rule.Ref).
	source  map[string]string
	samples map[string]func(*sigma.Rule) ([]Sample, error)
}

// LoadRules reads every source and compiles their Sigma rules into one
// engine (so that a correlation may count rules of any file or source),
// with the configured field mappings and placeholders, beside the
// sources' own engines. It fails only when a source or a mapping file
// cannot be read; rules that do not load are in the report's Rejected,
// for the caller to decide on (RejectedError).
func LoadRules(cfg config.Rules, sources ...RuleSource) (*RuleBook, error) {
	fields, err := fieldmap.Load(cfg.FieldMappings...)
	if err != nil {
		return nil, fmt.Errorf("rules.field_mappings: %w", err)
	}
	b := &RuleBook{
		opts:     detect.Options{Fields: fields, Placeholders: cfg.Placeholders},
		disabled: map[string]bool{},
		source:   map[string]string{},
		samples:  map[string]func(*sigma.Rule) ([]Sample, error){},
		Report:   &detect.Report{},
	}
	// own names each source's engines' rules after it.
	type own struct {
		engines []Evaluator
		set     RuleSet
		name    string
	}
	var owns []own
	for _, src := range sources {
		set, err := src.Load()
		if err != nil {
			return nil, fmt.Errorf("rules (%s): %w", src.Name, err)
		}
		b.Report.Files += set.Files
		b.Report.Rejected = append(b.Report.Rejected, set.Rejected...)
		for _, r := range set.Rules {
			b.rules = append(b.rules, r)
			b.source[r.Ref()] = src.Name
			if set.Samples != nil {
				b.samples[r.Ref()] = set.Samples
			}
		}
		if set.Engines != nil {
			engines, rejected := set.Engines()
			b.Report.Rejected = append(b.Report.Rejected, rejected...)
			b.makers = append(b.makers, set.Engines)
			owns = append(owns, own{engines: engines, set: set, name: src.Name})
		}
	}
	sig, rejected := detect.New(b.rules, b.opts)
	b.Engines = Engines{sig}
	b.Report.Rejected = append(b.Report.Rejected, rejected...)
	for _, o := range owns {
		b.Engines = append(b.Engines, o.engines...)
		for _, e := range o.engines {
			for _, info := range e.Rules() {
				b.source[info.Rule.Ref()] = o.name
				if o.set.Samples != nil {
					b.samples[info.Rule.Ref()] = o.set.Samples
				}
			}
		}
	}
	sort.SliceStable(b.Report.Rejected, func(i, j int) bool {
		x, y := b.Report.Rejected[i], b.Report.Rejected[j]
		if x.File != y.File {
			return x.File < y.File
		}
		return x.Line < y.Line
	})
	for _, e := range b.Engines {
		b.Report.Rules = append(b.Report.Rules, e.Rules()...)
	}
	b.Report.Loaded = len(b.Report.Rules)
	known := map[string]bool{}
	for _, info := range b.Report.Rules {
		if info.Active {
			b.Report.Active++
		}
		for _, k := range []string{info.Rule.ID, info.Rule.Name} {
			if k != "" {
				known[k] = true
			}
		}
	}
	for _, d := range cfg.Disabled {
		b.disabled[d] = true
		if !known[d] {
			b.UnknownDisabled = append(b.UnknownDisabled, d)
		}
	}
	return b, nil
}

// LoadConfiguredRules loads the rules of every source the configuration
// asks for.
func LoadConfiguredRules(cfg config.Config) (*RuleBook, error) {
	return LoadRules(cfg.Rules, RuleSources(cfg)...)
}

// NewEngines builds fresh engines over the same rules, with empty
// correlation state.
func (b *RuleBook) NewEngines() Engines {
	sig, _ := detect.New(b.rules, b.opts)
	out := Engines{sig}
	for _, make := range b.makers {
		engines, _ := make()
		out = append(out, engines...)
	}
	return out
}

// Disabled reports whether the configuration disables a rule (by id or
// name): it raises no alerts.
func (b *RuleBook) Disabled(r *sigma.Rule) bool {
	return (r.ID != "" && b.disabled[r.ID]) || (r.Name != "" && b.disabled[r.Name])
}

// Find returns the loaded rule an id, name or title refers to.
func (b *RuleBook) Find(ref string) (*sigma.Rule, bool) {
	for _, info := range b.Report.Rules {
		r := info.Rule
		if ref == r.ID || ref == r.Name || ref == r.Ref() {
			return r, true
		}
	}
	return nil, false
}

// RejectedError lists every rule that did not load, one per line with its
// file, line and reason; nil when every rule loaded.
func (b *RuleBook) RejectedError() error {
	if len(b.Report.Rejected) == 0 {
		return nil
	}
	errs := make([]error, len(b.Report.Rejected))
	for i, r := range b.Report.Rejected {
		errs[i] = errors.New(r.String())
	}
	return fmt.Errorf("%d rule(s) did not load:\n%w", len(errs), errors.Join(errs...))
}

// ActiveDatasets are the datasets some active rule reads: the only events
// worth evaluating.
func (b *RuleBook) ActiveDatasets() []string {
	seen := map[string]bool{}
	var out []string
	for _, info := range b.Report.Rules {
		for _, d := range info.Datasets {
			if !seen[d] {
				seen[d] = true
				out = append(out, d)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Summary describes the rules for `mamori rules list` and GET /api/v1/rules.
func (b *RuleBook) Summary() api.RulesResponse {
	out := api.RulesResponse{Files: b.Report.Files, Loaded: b.Report.Loaded, Active: b.Report.Active,
		Rules: make([]api.RuleSummary, 0, len(b.Report.Rules)), Rejected: make([]api.RuleRejection, 0, len(b.Report.Rejected)),
		UnknownDisabled: b.UnknownDisabled}
	for _, info := range b.Report.Rules {
		r := info.Rule
		level := r.Level
		if level == "" {
			level = sigma.LevelMedium
		}
		s := api.RuleSummary{Ref: r.Ref(), ID: r.ID, Name: r.Name, Title: r.Title, Level: string(level),
			Status: string(r.Status), Source: b.source[r.Ref()], File: r.File, Line: r.Line, Author: r.Author,
			Correlation: r.Correlation != nil, Active: info.Active, Inactive: info.Inactive, Emits: info.Emits,
			Disabled: b.Disabled(r), Datasets: info.Datasets}
		if s.Datasets == nil {
			s.Datasets = []string{}
		}
		if s.Disabled {
			out.Disabled++
		}
		out.Rules = append(out.Rules, s)
	}
	for _, rj := range b.Report.Rejected {
		out.Rejected = append(out.Rejected, api.RuleRejection{File: rj.File, Line: rj.Line, ID: rj.ID, Title: rj.Title, Reason: rj.Reason})
	}
	return out
}
