package cloudtrail

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/mamori-sec/mamori/internal/event"
)

func TestScannerStrings(t *testing.T) {
	cases := map[string]string{
		`"plain"`:              "plain",
		`"a\"b\\c\/d"`:         `a"b\c/d`,
		`"tab\there\nline"`:    "tab\there\nline",
		`"\u00e9t\u00E9"`:      "été",
		`"\ud83d\ude00 smile"`: "😀 smile",
		`"lone \ud83d here"`:   "lone \ufffd here",
		`"\ud83d\u0041"`:       "\ufffdA",
	}
	for in, want := range cases {
		sc := scanner{s: in}
		if got := sc.str(); got != want || sc.err != nil {
			t.Errorf("str(%s) = %q, %v; want %q", in, got, sc.err, want)
		}
	}
	for _, in := range []string{`"open`, `"bad \x"`, `"\u12"`, "\"ctl\x01\"", `x`} {
		sc := scanner{s: in}
		if sc.str(); sc.err == nil {
			t.Errorf("str(%s): no error", in)
		}
	}
}

func TestScannerDepth(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	sc := scanner{s: deep}
	if sc.skip(); sc.err == nil {
		t.Fatal("no error for nesting past maxDepth")
	}
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	sc = scanner{s: ok}
	if sc.skip(); sc.err != nil {
		t.Fatalf("nesting of maxDepth: %v", sc.err)
	}
}

// FuzzScanner checks the scanner against encoding/json: it accepts the
// same documents, and flatten gives the leaves a walk of encoding/json's
// decoding gives.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":[{"c":"x"},{"c":"y","d":[1,2.5,-3e2]}],"e":null,"f":true,"g":""}`,
		`{"k":"\u00e9\ud83d\ude00\"","n":{"m":{"o":[[1],[2]]}}}`,
		`[1,2,{"a":false}]`, `"str"`, `-0.5e+3`, `{"a":01}`, `{"a":1,}`, `{"a" 1}`, `{}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := scanner{s: string(data)}
		sc.skip()
		ours := sc.err == nil && !sc.more()
		if strings.Contains(sc.errString(), "nested too deeply") {
			return // encoding/json allows deeper nesting
		}
		if theirs := json.Valid(data); ours != theirs {
			t.Fatalf("scanner accepts=%v, encoding/json valid=%v, err %v", ours, theirs, sc.err)
		}
		if !ours || len(data) == 0 || bytes.TrimSpace(data)[0] != '{' || hasDuplicateKeys(data) {
			return
		}
		ev := event.New(8)
		flatten(ev, "p", strings.TrimSpace(string(data)))
		want := event.New(8)
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		refFlatten(want, "p", m)
		if !sameFields(ev, want) {
			got, _ := ev.MarshalJSON()
			exp, _ := want.MarshalJSON()
			t.Fatalf("flatten:\n got %s\nwant %s", got, exp)
		}
	})
}

func (sc *scanner) errString() string {
	if sc.err == nil {
		return ""
	}
	return sc.err.Error()
}

// hasDuplicateKeys reports an object with a key twice, where
// encoding/json keeps the last value and flatten gathers both.
func hasDuplicateKeys(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		keys   map[string]bool
		object bool
		key    bool // the next token is a key
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		top := len(stack) - 1
		if k, isKey := tok.(string); isKey && top >= 0 && stack[top].object && stack[top].key {
			if stack[top].keys[k] {
				return true
			}
			stack[top].keys[k] = true
			stack[top].key = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{keys: map[string]bool{}, object: true, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			top--
		}
		if top >= 0 && stack[top].object {
			stack[top].key = true
		}
	}
}

// refFlatten is flatten's specification written over encoding/json's
// decoding.
func refFlatten(ev *event.Event, prefix string, obj map[string]any) {
	lists := map[string][]any{}
	var walk func(path string, v any, inList bool)
	walk = func(path string, v any, inList bool) {
		switch x := v.(type) {
		case map[string]any:
			for k, el := range x {
				walk(path+"."+k, el, inList)
			}
		case []any:
			for _, el := range x {
				walk(path, el, true)
			}
		default:
			s := refScalar(x)
			if s == nil || s == "" {
				return
			}
			if inList {
				lists[path] = append(lists[path], s)
				return
			}
			ev.Set(path, s)
		}
	}
	walk(prefix, obj, false)
	for f, vals := range lists {
		ev.Set(f, listValue(vals))
	}
}

func refScalar(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := n.Int64(); err == nil {
		return i
	}
	if f, err := n.Float64(); err == nil {
		return f
	}
	return nil
}

// sameFields compares two events field by field, list order aside
// (encoding/json and the scanner visit duplicate keys differently).
func sameFields(a, b *event.Event) bool {
	if a.Len() != b.Len() {
		return false
	}
	same := true
	a.Range(func(k string, v any) {
		w, ok := b.Get(k)
		if !ok || !reflect.DeepEqual(v, w) && !sameMultiset(v, w) {
			same = false
		}
	})
	return same
}

func sameMultiset(a, b any) bool {
	x, y := asList(a), asList(b)
	if x == nil || len(x) != len(y) {
		return false
	}
	count := map[any]int{}
	for _, v := range x {
		count[v]++
	}
	for _, v := range y {
		count[v]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return true
}

func asList(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out
	}
	return nil
}
