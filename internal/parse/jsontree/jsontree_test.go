package jsontree_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

// canonical renders a parsed value in encoding/json's shapes (numbers as
// json.Number, the last of duplicate keys wins) so the two parsers can be
// compared.
func canonical(v jsontree.Value) any {
	switch v.Kind() {
	case jsontree.Null:
		return nil
	case jsontree.Bool:
		b, _ := v.Bool()
		return b
	case jsontree.Number:
		return json.Number(v.Text())
	case jsontree.String:
		return v.Str()
	case jsontree.Array:
		out := []any{}
		for el := range v.Elements() {
			out = append(out, canonical(el))
		}
		return out
	case jsontree.Object:
		out := map[string]any{}
		for k, el := range v.Members() {
			out[k] = canonical(el)
		}
		return out
	}
	return "<invalid>"
}

func stdDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if len(bytes.Trim(data[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

func TestParseAgreesWithEncodingJSON(t *testing.T) {
	docs := []string{
		`{}`, `[]`, `null`, `true`, `false`, `0`, `-0.5e+10`, `"x"`,
		` {"a" : [1, 2.5, "s", null, true, {"b": {}}], "c": "d" } `,
		`{"esc":"q\"b\\s\/n\nt\tu\u00e9\ud83d\ude00"}`,
		`{"lone":"\ud800x","low":"\udc00","pair-broken":"\ud800\u0041"}`,
		`{"dup":1,"dup":2}`,
		`{"big":-6709442587437772138,"frac":48.12341234}`,
		"{\"nested\":[[[[[]]]]],\n\"ws\":\t1\r\n}",
	}
	for _, d := range docs {
		v, err := jsontree.ParseString(d)
		if err != nil {
			t.Errorf("ParseString(%s): %v", d, err)
			continue
		}
		want, err := stdDecode([]byte(d))
		if err != nil {
			t.Fatalf("encoding/json rejects %s: %v", d, err)
		}
		if got := canonical(v); !reflect.DeepEqual(got, want) {
			t.Errorf("ParseString(%s) = %#v, want %#v", d, got, want)
		}
	}
}

func TestParseRejectsInvalid(t *testing.T) {
	for _, d := range []string{
		``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[1 2]`, `{a:1}`, `"\x"`, `"abc`,
		"\"a\x01b\"", `01`, `-`, `1.`, `1e`, `.5`, `tru`, `nul`, `{} {}`, `{"a":1}x`, `"\u12"`,
	} {
		if _, err := jsontree.ParseString(d); err == nil {
			t.Errorf("ParseString(%q): no error", d)
		}
	}
}

func TestDepthLimit(t *testing.T) {
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	if _, err := jsontree.ParseString(deep); !errors.Is(err, jsontree.ErrDepth) {
		t.Errorf("300 levels: err = %v, want ErrDepth", err)
	}
	ok := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	if _, err := jsontree.ParseString(ok); err != nil {
		t.Errorf("200 levels: %v", err)
	}
}

func TestAccessors(t *testing.T) {
	v, err := jsontree.Parse([]byte("\ufeff" + `{"s":"12","n":7,"f":1.5,"b":true,"sb":"false","o":{"k":{"deep":"x"}},"a":["p","q"],"m":[1,"x"],"e":"","z":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := v.Get("s").Int(); !ok || n != 12 {
		t.Errorf(`Int of "12" = %d, %v`, n, ok)
	}
	if f, ok := v.Get("f").Float(); !ok || f != 1.5 {
		t.Errorf("Float = %v, %v", f, ok)
	}
	if b, ok := v.Get("sb").Bool(); !ok || b {
		t.Errorf(`Bool of "false" = %v, %v`, b, ok)
	}
	if got := v.Path("o", "k", "deep").Str(); got != "x" {
		t.Errorf("Path = %q", got)
	}
	if v.Get("missing").Exists() || v.Get("s").Get("x").Exists() {
		t.Error("missing values must not exist")
	}
	if !v.Get("z").IsNull() || v.Get("z").Text() != "" {
		t.Error("null must be null with no text")
	}
	if got := v.Get("n").Text(); got != "7" {
		t.Errorf("Text of 7 = %q", got)
	}
	if got := v.Get("a").Any(nil); !reflect.DeepEqual(got, []string{"p", "q"}) {
		t.Errorf("Any of string array = %#v", got)
	}
	if got := v.Get("m").Any(nil); !reflect.DeepEqual(got, []any{int64(1), "x"}) {
		t.Errorf("Any of mixed array = %#v", got)
	}
	obj := v.Any(strings.ToUpper).(map[string]any)
	if _, ok := obj["E"]; ok {
		t.Error("Any must leave out empty strings")
	}
	if _, ok := obj["Z"]; ok {
		t.Error("Any must leave out nulls")
	}
	if obj["N"] != int64(7) || obj["F"] != 1.5 {
		t.Errorf("Any numbers: %#v %#v", obj["N"], obj["F"])
	}
	if v.Len() != 10 || v.Get("a").Len() != 2 || v.Get("s").Len() != 0 {
		t.Errorf("Len: %d %d", v.Len(), v.Get("a").Len())
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`{"a":[1,"b",{"c":null}]}`, `"\ud83d\ude00"`, `[1e5,-0,true]`, `{"a":1}x`, `[[[`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := jsontree.Parse(data)
		if bytes.HasPrefix(data, []byte("\ufeff")) || !utf8.Valid(data) {
			// encoding/json rejects a byte-order mark and rewrites
			// invalid UTF-8; only check that nothing panics.
			return
		}
		want, stdErr := stdDecode(data)
		if errors.Is(err, jsontree.ErrDepth) {
			return
		}
		if (err == nil) != (stdErr == nil) {
			t.Fatalf("Parse(%q): err %v, encoding/json err %v", data, err, stdErr)
		}
		if err == nil && !reflect.DeepEqual(canonical(v), want) {
			t.Fatalf("Parse(%q) = %#v, encoding/json %#v", data, canonical(v), want)
		}
	})
}
