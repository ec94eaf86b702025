package mapping_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/datasets/mapping"
)

// TestValidation checks that each kind of mistake is refused at load with
// a message that says what is wrong, on the line where it is.
func TestValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		line int
		want string
	}{
		{"unknown format", "name: a\nformat: xml\nset: {event.kind: event}\n", 2, `unknown format "xml"`},
		{"format missing", "name: a\nset: {event.kind: event}\n", 1, "format is missing"},
		{"name missing", "format: json\nset: {event.kind: event}\n", 1, "name is missing"},
		{"bad name", "name: Acme-FW\nformat: json\nset: {event.kind: event}\n", 1, "lower-case letters"},
		{"name with empty part", "name: acme..fw\nformat: json\nset: {event.kind: event}\n", 1, "empty part"},
		{"bad to", "name: a\nformat: json\nfields:\n  - from: x\n    to: source ip\n", 5, `"source ip" is not a valid field name`},
		{"to with empty part", "name: a\nformat: json\nfields:\n  - {from: x, to: source..ip}\n", 4, "empty part"},
		{"reserved to", "name: a\nformat: json\nfields:\n  - {from: x, to: event.id}\n", 4, "event.id cannot be mapped"},
		{"dataset as to", "name: a\nformat: json\nfields:\n  - {from: x, to: event.dataset}\n", 4, "the dataset's name"},
		{"to missing", "name: a\nformat: json\nfields:\n  - from: x\n", 4, "to is missing"},
		{"from missing", "name: a\nformat: json\nfields:\n  - to: message\n", 4, "from is missing"},
		{"unknown type", "name: a\nformat: json\nfields:\n  - {from: x, to: y.z, type: integer}\n", 4, `unknown type "integer"`},
		{"timestamp not time", "name: a\nformat: json\nfields:\n  - {from: x, to: \"@timestamp\"}\n", 4, "@timestamp must be read as type: time"},
		{"duplicate to", "name: a\nformat: json\nfields:\n  - {from: x, to: source.ip}\n  - {from: y, to: source.ip}\n", 5, "source.ip is already mapped at line 4"},
		{"timestamp twice", "name: a\nformat: json\ntimestamp: t\nfields:\n  - {from: x, to: \"@timestamp\", type: time}\n", 5, "@timestamp is already mapped at line 3"},
		{"unknown dataset key", "name: a\nformat: json\nfeilds: []\n", 3, "feilds: unknown setting"},
		{"unknown field key", "name: a\nformat: json\nfields:\n  - {form: x, to: y}\n", 4, "form: unknown setting"},
		{"layout without time", "name: a\nformat: json\nfields:\n  - {from: x, to: y, layout: unix}\n", 4, "applies to type: time only"},
		{"bad layout", "name: a\nformat: json\ntimestamp: {from: t, layout: yyyy-mm-dd}\n", 3, "is not a time layout"},
		{"bad timezone", "name: a\nformat: json\ntimestamp: {from: t, timezone: Mars/Olympus}\n", 3, "unknown time zone"},
		{"bad offset", "name: a\nformat: json\ntimezone: \"+25:00\"\nset: {event.kind: event}\n", 3, "is not an offset"},
		{"separator without list", "name: a\nformat: json\nfields:\n  - {from: x, to: y, separator: ;}\n", 4, "applies to type: list only"},
		{"default without map", "name: a\nformat: json\nfields:\n  - {from: x, to: y, default: z}\n", 4, "give a map:"},
		{"map not a mapping", "name: a\nformat: json\nfields:\n  - {from: x, to: y, map: [a, b]}\n", 4, "want a mapping"},
		{"invalid pattern", "name: a\nformat: regex\npattern: '(?P<x>['\nset: {event.kind: event}\n", 3, "invalid regular expression"},
		{"pattern without names", "name: a\nformat: regex\npattern: '(\\d+)'\nset: {event.kind: event}\n", 3, "no named group"},
		{"pattern missing", "name: a\nformat: regex\nset: {event.kind: event}\n", 1, "needs pattern"},
		{"from not a group", "name: a\nformat: regex\npattern: '(?P<ip>\\S+)'\nfields:\n  - {from: addr, to: source.ip}\n", 5, `no group named "addr" (groups: ip)`},
		{"invalid lines regexp", "name: a\nformat: json\nlines: {regexp: 'a(b'}\nset: {event.kind: event}\n", 3, "invalid regular expression"},
		{"csv without columns", "name: a\nformat: csv\nset: {event.kind: event}\n", 1, "needs columns"},
		{"csv columns and header", "name: a\nformat: csv\ncolumns: [a]\nheader: true\nset: {event.kind: event}\n", 4, "not both"},
		{"csv column twice", "name: a\nformat: csv\ncolumns: [a, b, a]\nset: {event.kind: event}\n", 3, `column "a" is named twice`},
		{"from not a column", "name: a\nformat: csv\ncolumns: [a, b]\nfields:\n  - {from: c, to: message}\n", 5, `"c" is not one of the columns (a, b)`},
		{"csv delimiter", "name: a\nformat: csv\ncolumns: [a]\ndelimiter: ab\nset: {event.kind: event}\n", 4, "want one character"},
		{"option of another format", "name: a\nformat: json\ncolumns: [a]\nset: {event.kind: event}\n", 3, "applies to format csv only, not json"},
		{"kv separators equal", "name: a\nformat: kv\npair_separator: ';'\nvalue_separator: ';'\nset: {event.kind: event}\n", 4, "must differ"},
		{"cef header key", "name: a\nformat: cef\nfields:\n  - {from: header.vendor, to: observer.vendor}\n", 4, "the CEF header fields are"},
		{"leef header key", "name: a\nformat: leef\nfields:\n  - {from: header.device_vendor, to: observer.vendor}\n", 4, "the LEEF header fields are"},
		{"syslog format key", "name: a\nformat: syslog\nfields:\n  - {from: body, to: message}\n", 4, "format syslog offers message"},
		{"app without syslog", "name: a\nformat: json\nlines: {app: [x]}\nset: {event.kind: event}\n", 3, "set syslog: true"},
		{"empty lines rule", "name: a\nformat: json\nlines: [{}]\nset: {event.kind: event}\n", 3, "give at least one of"},
		{"catch-all key", "name: a\nformat: json\nkeys: ['**/*']\nset: {event.kind: event}\n", 3, "matches every key"},
		{"bad key pattern", "name: a\nformat: json\nkeys: ['logs/[a']\nset: {event.kind: event}\n", 3, "not a valid pattern"},
		{"set timestamp", "name: a\nformat: json\nset: {\"@timestamp\": now}\n", 3, "@timestamp comes from the record"},
		{"set null", "name: a\nformat: json\nset:\n  event.kind:\n", 4, "want a value"},
		{"bad namespace", "name: a\nformat: json\ncopy_unmapped_to: event\n", 3, "vendor namespace"},
		{"sets nothing", "name: a\nformat: json\n", 1, "sets nothing"},
		{"yaml syntax", "name: a\nformat: json\nfields: [\n", 3, "invalid YAML"},
		{"two documents", "name: a\nformat: json\nset: {event.kind: event}\n---\nname: b\n", 4, "more than one YAML document"},
		{"empty file", "", 0, "file is empty"},
		{"duplicate key", "name: a\nformat: json\nformat: json\n", 3, "given twice"},
		{"duplicate dataset", "datasets:\n  - {name: a, format: json, set: {event.kind: event}}\n  - {name: a, format: kv, set: {event.kind: event}}\n", 3, "defined twice in this file"},
		{"datasets and more", "datasets:\n  - {name: a, format: json, set: {event.kind: event}}\nformat: json\n", 3, "holds nothing else"},
		{"not a mapping", "- a\n- b\n", 1, "want a mapping"},
		{"syslog false with syslog format", "name: a\nformat: syslog\nsyslog: false\nset: {event.kind: event}\n", 3, "always reads the syslog header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := mapping.Parse([]byte(tc.yaml), "custom.yaml", opts)
			if err == nil {
				t.Fatalf("no error for:\n%s", tc.yaml)
			}
			var me *mapping.Error
			if !errors.As(err, &me) {
				t.Fatalf("error %v is not a *mapping.Error", err)
			}
			if me.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got line %d: %v\nwant line %d and %q", me.Line, err, tc.line, tc.want)
			}
			if me.Source != "custom.yaml" || !strings.HasPrefix(err.Error(), "custom.yaml") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

// TestErrorNamesDataset checks that errors inside a dataset name it.
func TestErrorNamesDataset(t *testing.T) {
	src := "datasets:\n  - {name: good, format: json, set: {event.kind: event}}\n  - name: bad.one\n    format: json\n    fields: [{from: x, to: 'a b'}]\n"
	_, err := mapping.Parse([]byte(src), "f.yaml", opts)
	var me *mapping.Error
	if !errors.As(err, &me) || me.Dataset != "bad.one" || me.Path != "fields[0].to" || me.Line != 5 {
		t.Fatalf("error %#v", me)
	}
	want := `f.yaml:5: dataset "bad.one": fields[0].to: "a b" is not a valid field name`
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %q\nwant prefix %q", err, want)
	}
}

// TestLoadSeveral loads a file that defines two datasets, and checks what
// Load says about a file that is not there.
func TestLoadSeveral(t *testing.T) {
	path := filepath.Join(t.TempDir(), "two.yaml")
	src := `datasets:
  - name: acme.one
    description: the first
    format: json
    fields: [{from: a, to: message}]
  - name: acme.two
    format: kv
    keys: ["**/acme/two/*.log"]
    fields: [{from: a, to: message}]
`
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	ds, err := mapping.Load(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) != 2 || ds[0].Name != "acme.one" || ds[1].Name != "acme.two" {
		t.Fatalf("datasets %v", ds)
	}
	if ds[0].Description != "the first" || ds[1].Description != "custom kv mapping from two.yaml" {
		t.Errorf("descriptions %q, %q", ds[0].Description, ds[1].Description)
	}
	if got := parseOne(t, ds[1], "a=hello").String("message"); got != "hello" {
		t.Errorf("message %q", got)
	}
	if _, err := mapping.Load(filepath.Join(t.TempDir(), "missing.yaml"), opts); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("missing file: %v", err)
	}
}

// TestYAMLAliases checks that anchors and aliases work for shared
// settings, as YAML users expect.
func TestYAMLAliases(t *testing.T) {
	src := `datasets:
  - name: acme.one
    format: kv
    fields: &common
      - {from: src, to: source.ip, type: ip}
  - name: acme.two
    format: kv
    fields: *common
`
	ds, err := mapping.Parse([]byte(src), "a.yaml", opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if got := parseOne(t, d, "src=192.0.2.1").String("source.ip"); got != "192.0.2.1" {
			t.Errorf("%s: source.ip %q", d.Name, got)
		}
	}
}

// TestLoadAll checks that names clashing across files, or with a
// built-in dataset, are refused with both places named.
func TestLoadAll(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("a.yaml", "name: acme.one\nformat: kv\nset: {event.kind: event}\n")
	b := write("b.yaml", "datasets:\n  - {name: acme.two, format: kv, set: {event.kind: event}}\n  - {name: acme.one, format: json, set: {event.kind: event}}\n")
	c := write("c.yaml", "\nname: cef\nformat: kv\nset: {event.kind: event}\n")
	builtin := func(name string) bool { return name == "cef" || name == "syslog" }

	ds, err := mapping.LoadAll([]string{a}, opts, builtin)
	if err != nil || len(ds) != 1 {
		t.Fatalf("one file: %v, %v", ds, err)
	}
	_, err = mapping.LoadAll([]string{a, b}, opts, builtin)
	if err == nil || err.Error() != b+`:3: dataset "acme.one": name: also defined at `+a+":1" {
		t.Errorf("clash across files: %v", err)
	}
	_, err = mapping.LoadAll([]string{c}, opts, builtin)
	if err == nil || !strings.HasPrefix(err.Error(), c+`:2: dataset "cef": name: a built-in dataset has this name`) {
		t.Errorf("clash with a built-in: %v", err)
	}
}
