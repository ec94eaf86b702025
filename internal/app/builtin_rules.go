package app

import (
	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/builtin"
	"github.com/mamori-sec/mamori/internal/detect/native"
	"github.com/mamori-sec/mamori/internal/detect/sigma"
)

// BuiltinRules is the source of mamori's built-in rules for the seed
// scenarios (internal/detect/builtin): Sigma rules for the one Sigma
// engine, native rules in an engine of their own, and the samples kept
// beside them.
func BuiltinRules(opts builtin.Options) RuleSource {
	return RuleSource{Name: "builtin", Load: func() (RuleSet, error) {
		set, err := builtin.Rules(opts)
		if err != nil {
			return RuleSet{}, err
		}
		return RuleSet{
			Rules: set.Sigma,
			Engines: func() ([]Evaluator, []detect.Rejection) {
				e, rejected := native.New(set.Native, native.Options{})
				return []Evaluator{e}, rejected
			},
			Samples: builtinSamples,
		}, nil
	}}
}

// builtinSamples are a built-in rule's embedded samples (records read from
// ../shared/corpus are the builtin package's own test's business).
func builtinSamples(r *sigma.Rule) ([]Sample, error) {
	all, err := builtin.Samples("")
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, s := range all {
		if s.RuleID == r.ID {
			out = append(out, Sample{File: s.File, Positive: s.Positive, Records: s.Records})
		}
	}
	return out, nil
}
