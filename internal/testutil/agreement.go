package testutil

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// CoreFields are the fields the corpus comparison checks (issue 4's list);
// a name ending in "." is a prefix.
var CoreFields = []string{
	"@timestamp", "event.action", "event.category", "event.type", "event.outcome",
	"source.ip", "source.port", "destination.ip", "destination.port",
	"user.name", "host.name", "url.", "network.transport", "file.hash.", "related.",
}

// Agreement is how far a parser's documents agree with the ECS documents
// Elastic's pipelines produce from the same samples.
type Agreement struct {
	// Samples is the number of input records; Failed of those failed to
	// parse.
	Samples, Failed int
	// Fields counts the core fields present in the expected documents;
	// Agreed those our documents hold with the same meaning.
	Fields, Agreed int
	// Diffs lists each disagreement: "sample 2 source.ip: got x, want y".
	Diffs []string
}

// Ratio is Agreed/Fields (1 when there is nothing to compare).
func (a Agreement) Ratio() float64 {
	if a.Fields == 0 {
		return 1
	}
	return float64(a.Agreed) / float64(a.Fields)
}

// CorpusAgreement runs the corpus sample rel (a path under
// ../shared/corpus: X.log with one record a line, or X.json whose events
// hold the raw record in event.original) through p, completes related.*
// as the pipeline does, and compares the core fields with X-expected.json.
// It skips the test when the corpus is absent.
//
// Values are compared by meaning: times as instants (to the millisecond), IPs canonically,
// numbers and text as text, lists as sets (related.* lists need only hold
// every expected value: ours may name more; hashes ignore case).
func CorpusAgreement(t testing.TB, p dataset.Parser, rel string, received time.Time) Agreement {
	t.Helper()
	return CorpusAgreementAt(t, p, rel, func(int, map[string]any) time.Time { return received })
}

// CorpusAgreementAt is CorpusAgreement with a receive time per sample,
// given the sample's index and its expected document (flattened): for
// samples whose timestamps lack a year, the time Elastic's test ran, which
// its documents record, is when the sample was received.
func CorpusAgreementAt(t testing.TB, p dataset.Parser, rel string, receivedAt func(i int, expected map[string]any) time.Time) Agreement {
	t.Helper()
	in := CorpusFile(t, rel)
	records := readCorpusRecords(t, in)
	expected := readExpected(t, in+"-expected.json")
	if len(expected) != len(records) {
		t.Fatalf("%s: %d records but %d expected documents", rel, len(records), len(expected))
	}
	var a Agreement
	for i, rec := range records {
		a.Samples++
		evs, err := p.Parse(dataset.Record{Data: rec, Received: receivedAt(i, expected[i])})
		if err != nil || len(evs) == 0 {
			a.Failed++
			a.Diffs = append(a.Diffs, fmt.Sprintf("sample %d: parse failed: %v (%d events)", i+1, err, len(evs)))
			evs = []*event.Event{event.New(1)}
		}
		ev := evs[0]
		ev.FillRelated()
		got := flattenEvent(t, ev)
		for _, field := range sortedKeys(expected[i]) {
			if !isCore(field) {
				continue
			}
			a.Fields++
			want := expected[i][field]
			if g, ok := got[field]; ok && sameValue(field, g, want) {
				a.Agreed++
				continue
			}
			a.Diffs = append(a.Diffs, fmt.Sprintf("sample %d %s: got %v, want %v", i+1, field, got[field], want))
		}
	}
	return a
}

func isCore(field string) bool {
	for _, c := range CoreFields {
		if field == c || strings.HasSuffix(c, ".") && strings.HasPrefix(field, c) {
			return true
		}
	}
	return false
}

func readCorpusRecords(t testing.TB, path string) [][]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	if strings.HasSuffix(path, ".json") {
		var doc struct {
			Events []map[string]any `json:"events"`
		}
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var recs [][]byte
		for i, e := range doc.Events {
			flat := flattenMap("", e, map[string]any{})
			orig, ok := flat["event.original"].(string)
			if !ok {
				orig, ok = flat["message"].(string)
			}
			if !ok {
				t.Fatalf("%s: event %d has no event.original or message", path, i+1)
			}
			recs = append(recs, []byte(orig))
		}
		return recs
	}
	var recs [][]byte
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		if line := bytes.TrimRight(sc.Bytes(), "\r"); len(bytes.TrimSpace(line)) > 0 {
			recs = append(recs, bytes.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

func readExpected(t testing.TB, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("no expected documents for this sample: %v", err)
	}
	var doc struct {
		Expected []map[string]any `json:"expected"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := make([]map[string]any, len(doc.Expected))
	for i, e := range doc.Expected {
		out[i] = flattenMap("", e, map[string]any{})
	}
	return out
}

func flattenEvent(t testing.TB, ev *event.Event) map[string]any {
	t.Helper()
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return flattenMap("", m, map[string]any{})
}

// flattenMap turns nested objects into dotted keys (documents may use
// either form); lists stay values.
func flattenMap(prefix string, m map[string]any, out map[string]any) map[string]any {
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			flattenMap(prefix+k+".", sub, out)
			continue
		}
		out[prefix+k] = v
	}
	return out
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func sameValue(field string, got, want any) bool {
	g, w := canonicalList(got), canonicalList(want)
	if strings.HasPrefix(field, "file.hash.") || field == "related.hash" {
		// Hex digests mean the same in either case; mamori writes lower.
		g, w = lowerAll(g), lowerAll(w)
	}
	if field == "@timestamp" && len(g) == 1 && len(w) == 1 {
		gt, err1 := time.Parse(time.RFC3339Nano, g[0])
		wt, err2 := time.Parse(time.RFC3339Nano, w[0])
		// Elasticsearch's date type keeps milliseconds; mamori keeps more.
		return err1 == nil && err2 == nil && gt.Truncate(time.Millisecond).Equal(wt.Truncate(time.Millisecond))
	}
	if strings.HasPrefix(field, "related.") {
		for _, v := range w {
			if !slices.Contains(g, v) {
				return false
			}
		}
		return true
	}
	return slices.Equal(g, w)
}

// canonicalList renders a value as a sorted, de-duplicated list of texts,
// with addresses in canonical form.
func canonicalList(v any) []string {
	var out []string
	add := func(x any) {
		s := fmt.Sprint(x)
		if f, ok := x.(float64); ok {
			s = fmt.Sprintf("%v", f)
		}
		if a, err := netip.ParseAddr(s); err == nil {
			s = a.Unmap().String()
		}
		out = append(out, s)
	}
	if list, ok := v.([]any); ok {
		for _, x := range list {
			add(x)
		}
	} else {
		add(v)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func lowerAll(list []string) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = strings.ToLower(s)
	}
	return out
}
