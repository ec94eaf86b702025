// Package mapping builds datasets from declarative YAML files, so that an
// operator can add a log type without writing Go: a mapping names the
// dataset, says how its records are recognised (archive key patterns,
// syslog program names, prefixes), which wire format they are in (json,
// csv, kv, cef, leef, regex, syslog; optionally behind a syslog header),
// and which source keys become which ECS fields, with what type.
//
// A loaded mapping is an ordinary dataset.Dataset: it goes into the
// registry beside the built-in ones and is parsed, normalised, stored and
// searched the same way. The file format is documented field by field in
// docs/datasets/custom.md.
package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mamori-sec/mamori/internal/dataset"
)

// Options carry what mapped datasets need from the configuration.
type Options struct {
	// Location is the zone of times that carry none (BSD syslog headers,
	// layouts without a zone) unless the mapping names its own timezone
	// (nil means UTC).
	Location *time.Location
	// Now gives the reference time when a record has no receive time
	// (nil means time.Now): times without a year take the year that puts
	// them nearest it.
	Now func() time.Time
}

// maxFileBytes bounds a mapping file. Mappings are a few kilobytes; a
// larger file is surely not one, and the bound keeps a hostile file from
// costing much to load.
const maxFileBytes = 1 << 20

// Load reads a mapping file and returns the datasets it defines.
func Load(path string, opts Options) ([]dataset.Dataset, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	return Parse(data, path, opts)
}

// Parse reads the mapping file held in data; source names it in errors
// (usually its path). Every problem is reported as an *Error naming the
// file, the dataset and the line.
func Parse(data []byte, source string, opts Options) ([]dataset.Dataset, error) {
	ds, _, err := parse(data, source, opts)
	return ds, err
}

// LoadAll loads several mapping files, as the configuration lists them,
// and checks that no two datasets share a name, across files or with a
// dataset builtin reports as taken (nil: none is). The error names both
// places of a clash.
func LoadAll(paths []string, opts Options, builtin func(name string) bool) ([]dataset.Dataset, error) {
	type place struct {
		file string
		line int
	}
	seen := map[string]place{}
	var out []dataset.Dataset
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("mapping: %w", err)
		}
		ds, lines, err := parse(data, path, opts)
		if err != nil {
			return nil, err
		}
		for i, d := range ds {
			if builtin != nil && builtin(d.Name) {
				return nil, &Error{Source: path, Line: lines[i], Dataset: d.Name, Path: "name",
					Msg: "a built-in dataset has this name; give the mapping its own (it may still claim the same records)"}
			}
			if p, dup := seen[d.Name]; dup {
				return nil, &Error{Source: path, Line: lines[i], Dataset: d.Name, Path: "name",
					Msg: fmt.Sprintf("also defined at %s:%d", p.file, p.line)}
			}
			seen[d.Name] = place{path, lines[i]}
		}
		out = append(out, ds...)
	}
	return out, nil
}

// parse is Parse, also returning the line of each dataset's name.
func parse(data []byte, source string, opts Options) ([]dataset.Dataset, []int, error) {
	if len(data) > maxFileBytes {
		return nil, nil, &Error{Source: source, Msg: fmt.Sprintf("file is %d bytes; a mapping file is at most %d", len(data), maxFileBytes)}
	}
	doc, err := decodeYAML(data, source)
	if err != nil {
		return nil, nil, err
	}
	l := &loader{src: source, opts: opts}
	return l.file(doc)
}

// decodeYAML reads the file's one YAML document as a node tree.
func decodeYAML(data []byte, source string) (doc *yaml.Node, err error) {
	// yaml.v3 is a large third-party parser; a panic on some malformed
	// input must not take the server down while it reads its
	// configuration. Only the decoding is guarded, so that the fuzzer
	// still sees any panic in this package's own code.
	defer func() {
		if r := recover(); r != nil {
			doc, err = nil, &Error{Source: source, Msg: fmt.Sprintf("cannot read YAML: %v", r)}
		}
	}()
	doc = new(yaml.Node)
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Source: source, Msg: "file is empty: want a dataset (name, format, fields, ...) or a datasets: list"}
		}
		return nil, yamlError(source, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{Source: source, Line: extra.Line, Msg: "more than one YAML document: list several datasets under datasets: instead"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(source, err)
	}
	return doc, nil
}

// Error is a problem in a mapping file.
type Error struct {
	// Source is the file, as given to Parse or Load.
	Source string
	// Line is the 1-based line of the offending YAML node, 0 if unknown.
	Line int
	// Dataset is the name of the dataset being read, "" outside one.
	Dataset string
	// Path locates the setting within the dataset ("fields[2].to").
	Path string
	// Msg says what is wrong.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Dataset != "" {
		fmt.Fprintf(&b, "dataset %q: ", e.Dataset)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// yamlError turns a yaml.v3 syntax error into an *Error, taking the line
// from its message ("yaml: line 3: ...") where it has one.
func yamlError(source string, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		n, after, found := strings.Cut(rest, ":")
		if v, err := strconv.Atoi(n); err == nil && found {
			line = v
			msg = strings.TrimSpace(after)
		}
	}
	return &Error{Source: source, Line: line, Msg: "invalid YAML: " + msg}
}
