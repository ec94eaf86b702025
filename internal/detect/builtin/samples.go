package builtin

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/detect"
	"github.com/mamori-sec/mamori/internal/detect/fieldmap"
	"github.com/mamori-sec/mamori/internal/detect/native"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
)

// Samples live under samples/<rule id>/:
//
//	positive.log   raw records (one a line, as they arrive) the rule must fire on
//	negative.log   raw records it must not fire on
//	positive.corpus, negative.corpus
//	               references to real records under ../shared/corpus, one a
//	               line: `dir/file.log:3` (the third record), or a whole file
//
// Lines starting with # are comments. Each sample runs, record by record
// in order, through dataset recognition and pipeline.Normalize (as the
// processor would) and fresh engines holding every built-in rule.

// Sample is one sample file of a built-in rule.
type Sample struct {
	RuleID string
	// File is the sample's name (samples/<id>/positive.log), or for a
	// corpus reference the corpus file and record (ngfw_panos/x.log:1).
	File     string
	Positive bool
	Records  [][]byte
}

// Samples lists every sample of the built-in rules, by rule id then file.
// corpusDir is ../shared/corpus, for the .corpus references; with "" they
// are left out.
func Samples(corpusDir string) ([]Sample, error) {
	dirs, err := fs.ReadDir(files, "samples")
	if err != nil {
		return nil, fmt.Errorf("builtin samples: %w", err)
	}
	var out []Sample
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		id := d.Name()
		entries, err := fs.ReadDir(files, path.Join("samples", id))
		if err != nil {
			return nil, fmt.Errorf("builtin samples: %w", err)
		}
		for _, e := range entries {
			name := e.Name()
			stem, ext, _ := strings.Cut(name, ".")
			if stem != "positive" && stem != "negative" {
				return nil, fmt.Errorf("builtin samples: samples/%s/%s: a sample is positive.* or negative.*", id, name)
			}
			data, err := files.ReadFile(path.Join("samples", id, name))
			if err != nil {
				return nil, fmt.Errorf("builtin samples: %w", err)
			}
			if ext == "corpus" {
				if corpusDir == "" {
					continue
				}
				refs, err := corpusSamples(corpusDir, id, stem == "positive", data)
				if err != nil {
					return nil, fmt.Errorf("builtin samples: samples/%s/%s: %w", id, name, err)
				}
				out = append(out, refs...)
				continue
			}
			out = append(out, Sample{RuleID: id, File: path.Join("samples", id, name), Positive: stem == "positive", Records: lines(data)})
		}
	}
	return out, nil
}

// lines splits a sample into records, leaving out blank lines and
// comments.
func lines(data []byte) [][]byte {
	var out [][]byte
	for line := range bytes.SplitSeq(data, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 || line[0] == '#' {
			continue
		}
		out = append(out, line)
	}
	return out
}

// corpusSamples reads the records a .corpus file refers to.
func corpusSamples(dir, id string, positive bool, data []byte) ([]Sample, error) {
	var out []Sample
	for _, ref := range lines(data) {
		file, num, hasNum := strings.Cut(string(ref), ":")
		recs, err := CorpusRecords(filepath.Join(dir, filepath.FromSlash(file)))
		if err != nil {
			return nil, err
		}
		if hasNum {
			n, err := strconv.Atoi(num)
			if err != nil || n < 1 || n > len(recs) {
				return nil, fmt.Errorf("%s: record %q: want 1 to %d", file, num, len(recs))
			}
			recs = recs[n-1 : n]
		}
		out = append(out, Sample{RuleID: id, File: string(ref), Positive: positive, Records: recs})
	}
	return out, nil
}

// CorpusRecords reads the raw records of a corpus sample file: the lines of
// a log, or each event's event.original (else message) of a
// `{"events":[...]}` JSON file. A JSON file of another shape (an expected
// ECS document) has no raw records.
func CorpusRecords(file string) ([][]byte, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(file, ".json") {
		var out [][]byte
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
		for sc.Scan() {
			if line := bytes.TrimRight(sc.Bytes(), "\r"); len(bytes.TrimSpace(line)) > 0 {
				out = append(out, bytes.Clone(line))
			}
		}
		return out, sc.Err()
	}
	var doc struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out [][]byte
	for i, ev := range doc.Events {
		e := event.New(len(ev))
		e.SetObject("", ev)
		text := e.String(event.FieldOriginal)
		if text == "" {
			text = e.String(event.FieldMessage)
		}
		if text == "" {
			return nil, fmt.Errorf("%s: event %d has no event.original or message", file, i+1)
		}
		out = append(out, []byte(text))
	}
	return out, nil
}

// Engines are fresh engines over a set of built-in rules: each sample (and
// each corpus file) starts with empty correlation and threshold state.
type Engines struct {
	Sigma  *detect.Engine
	Native *native.Engine
}

// NewEngines compiles set with the given field tables (nil: the built-in
// ones). Any rule that does not load is an error: the shipped rules must
// all load.
func NewEngines(set *Set, fields *fieldmap.Map) (*Engines, error) {
	sig, rejected := detect.New(set.Sigma, detect.Options{Fields: fields})
	nat, rejected2 := native.New(set.Native, native.Options{})
	rejected = append(rejected, rejected2...)
	if len(rejected) > 0 {
		var msgs []string
		for _, r := range rejected {
			msgs = append(msgs, r.String())
		}
		return nil, fmt.Errorf("builtin rules do not load: %s", strings.Join(msgs, "; "))
	}
	return &Engines{Sigma: sig, Native: nat}, nil
}

// Evaluate runs both engines over a batch.
func (e *Engines) Evaluate(evs []*event.Event) []detect.Match {
	return append(e.Sigma.Evaluate(evs), e.Native.Evaluate(evs)...)
}

// Emitting lists the ids of the rules that raise matches of their own:
// every native rule, and the Sigma rules no correlation consumes (the
// outermost correlation of a chain).
func (e *Engines) Emitting() []string {
	var out []string
	for _, info := range e.Sigma.Rules() {
		if info.Emits {
			out = append(out, info.Rule.ID)
		}
	}
	for _, info := range e.Native.Rules() {
		out = append(out, info.Rule.ID)
	}
	sort.Strings(out)
	return out
}

// Result is a rule's verdict on one sample.
type Result struct {
	Sample Sample
	// Events are the events the records gave; Fired the matches of the
	// sample's rule; Others the ids of other rules that matched.
	Events int
	Fired  int
	Others []string
	// Problems say what went wrong: a record no dataset recognises or
	// that fails to parse, the rule firing on a negative or not on a
	// positive. None when the sample passed.
	Problems []string
}

// Passed reports whether the sample passed.
func (r Result) Passed() bool { return len(r.Problems) == 0 }

// CheckSamples runs every sample of the built-in rules: a rule must fire
// on its positive samples and not on its negative ones. reg recognises and
// parses the records, received is their receive time (the year of syslog
// timestamps without one), fields the field tables (nil: built-in) and
// corpusDir the shared corpus (""; its references are left out).
func CheckSamples(opts Options, reg *dataset.Registry, fields *fieldmap.Map, corpusDir string, received time.Time) ([]Result, error) {
	set, err := Rules(opts)
	if err != nil {
		return nil, err
	}
	samples, err := Samples(corpusDir)
	if err != nil {
		return nil, err
	}
	var out []Result
	for _, s := range samples {
		eng, err := NewEngines(set, fields)
		if err != nil {
			return nil, err
		}
		out = append(out, checkSample(eng, reg, s, received))
	}
	return out, nil
}

func checkSample(eng *Engines, reg *dataset.Registry, s Sample, received time.Time) Result {
	res := Result{Sample: s}
	others := map[string]bool{}
	for i, rec := range s.Records {
		evs, problem := Normalize(reg, rec, s.File, int64(i), received)
		if problem != "" {
			res.Problems = append(res.Problems, fmt.Sprintf("record %d: %s", i+1, problem))
			continue
		}
		res.Events += len(evs)
		for _, m := range eng.Evaluate(evs) {
			if m.Rule.ID == s.RuleID {
				res.Fired++
			} else {
				others[m.Rule.ID] = true
			}
		}
	}
	for id := range others {
		res.Others = append(res.Others, id)
	}
	sort.Strings(res.Others)
	switch {
	case s.Positive && res.Fired == 0:
		res.Problems = append(res.Problems, fmt.Sprintf("%s did not fire on this positive sample (%d events)", s.RuleID, res.Events))
	case !s.Positive && res.Fired > 0:
		res.Problems = append(res.Problems, fmt.Sprintf("%s fired %d times on this negative sample", s.RuleID, res.Fired))
	}
	return res
}

// Normalize recognises a record's dataset and parses and completes it as
// the processor does (pipeline.Normalize). It reports a record no dataset
// recognises or that fails to parse.
func Normalize(reg *dataset.Registry, rec []byte, key string, index int64, received time.Time) ([]*event.Event, string) {
	ds, ok := reg.Detect(rec)
	if !ok {
		return nil, "no dataset recognises the record"
	}
	evs, failed := pipeline.Normalize(ds, dataset.Record{Data: rec, Received: received}, key, index, received)
	if failed {
		return nil, fmt.Sprintf("the %s dataset cannot parse it: %s", ds.Name, evs[0].String(event.FieldError))
	}
	return evs, ""
}
