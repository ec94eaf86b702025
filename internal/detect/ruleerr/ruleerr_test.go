package ruleerr

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestErrorFormat(t *testing.T) {
	for _, c := range []struct {
		err  Error
		want string
	}{
		{Error{Prefix: "sigma", File: "r.yml", Line: 3, Col: 7, Rule: "Bad", Msg: "boom"}, `sigma: r.yml:3:7: rule "Bad": boom`},
		{Error{Prefix: "native", File: "r.yml", Line: 3, Msg: "boom"}, `native: r.yml:3: boom`},
		// A column without a line says nothing.
		{Error{Prefix: "native", File: "r.yml", Col: 7, Msg: "boom"}, `native: r.yml: boom`},
		{Error{Prefix: "sigma", Line: 4, Col: 2, Msg: "boom"}, `sigma: :4:2: boom`},
		{Error{Prefix: "sigma", Rule: "x", Msg: "boom"}, `sigma: rule "x": boom`},
		{Error{Prefix: "native", Msg: "boom"}, `native: boom`},
		{Error{File: "r.yml", Msg: "boom"}, `r.yml: boom`},
		// Key is for placing the error, not for reading.
		{Error{Prefix: "native", File: "r.yml", Key: "query", Msg: "boom"}, `native: r.yml: boom`},
	} {
		if got := c.err.Error(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.err, got, c.want)
		}
		if got := c.err.Reason(); got != c.err.Msg {
			t.Errorf("%+v: reason %q, want the message %q", c.err, got, c.err.Msg)
		}
	}
}

func TestAsAndErrorsOnJoined(t *testing.T) {
	first := &Error{Prefix: "native", File: "a.yml", Line: 1, Msg: "one"}
	second := &Error{Prefix: "native", File: "a.yml", Line: 9, Msg: "two"}
	plain := errors.New("not a rule error")
	joined := errors.Join(first, fmt.Errorf("wrapped: %w", second), plain)

	if e, ok := As(fmt.Errorf("wrapped: %w", second)); !ok || e != second {
		t.Errorf("As through a wrap: %v, %v", e, ok)
	}
	if e, ok := As(plain); ok || e != nil {
		t.Errorf("As(plain): %v, %v; want nothing", e, ok)
	}

	got := Errors(joined, "native")
	if len(got) != 3 {
		t.Fatalf("Errors gave %d errors, want 3: %v", len(got), got)
	}
	if got[0] != first || got[1] != second {
		t.Errorf("Errors did not give the joined *Errors back: %v, %v", got[0], got[1])
	}
	if got[2].Msg != plain.Error() || got[2].Error() != "native: "+plain.Error() {
		t.Errorf("a plain error became %+v (%q)", got[2], got[2].Error())
	}

	if got := Errors(second, "native"); len(got) != 1 || got[0] != second {
		t.Errorf("Errors of one error: %v", got)
	}
	if got := Errors(nil, "native"); got != nil {
		t.Errorf("Errors(nil) = %v", got)
	}
}

// yamlErr is yaml.v3's own error for doc.
func yamlErr(t *testing.T, doc string) error {
	t.Helper()
	var v yaml.Node
	err := yaml.NewDecoder(bytes.NewReader([]byte(doc))).Decode(&v)
	if err == nil {
		t.Fatalf("%q decodes", doc)
	}
	return err
}

func TestFromYAML(t *testing.T) {
	// The syntax error is on the second line.
	raw := yamlErr(t, "a: b\n c: d\n")
	e := FromYAML("sigma", "r.yml", raw)
	rest, ok := strings.CutPrefix(raw.Error(), "yaml: line 2: ")
	if !ok {
		t.Fatalf("yaml.v3 placed the error differently: %q", raw)
	}
	if e.Prefix != "sigma" || e.File != "r.yml" || e.Line != 2 || e.Col != 0 || e.Msg != "YAML: "+rest {
		t.Errorf("%+v", e)
	}
	if want := "sigma: r.yml:2: YAML: " + rest; e.Error() != want {
		t.Errorf("%q, want %q", e.Error(), want)
	}

	// An error yaml.v3 does not place keeps its text, without "yaml: ".
	raw = yamlErr(t, "\x01")
	if strings.HasPrefix(raw.Error(), "yaml: line ") {
		t.Fatalf("yaml.v3 placed a control character: %q", raw)
	}
	e = FromYAML("native", "r.yml", raw)
	if e.Line != 0 || e.Msg != "YAML: "+strings.TrimPrefix(raw.Error(), "yaml: ") {
		t.Errorf("%+v", e)
	}

	// A line number that is no line stays in the text.
	for _, msg := range []string{"yaml: line 0: x", "yaml: line 99999999999999999999: x"} {
		if e := FromYAML("native", "r.yml", errors.New(msg)); e.Line != 0 || e.Msg != "YAML: "+msg[len("yaml: "):] {
			t.Errorf("%q: %+v", msg, e)
		}
	}
}

// FuzzFromYAML feeds FromYAML arbitrary messages: the line it takes out
// of the text is the one the text named, and nothing else is lost.
func FuzzFromYAML(f *testing.F) {
	f.Fuzz(func(t *testing.T, msg string) {
		e := FromYAML("p", "f", errors.New(msg))
		if e.Prefix != "p" || e.File != "f" || e.Col != 0 {
			t.Fatalf("%q: %+v", msg, e)
		}
		text, ok := strings.CutPrefix(e.Msg, "YAML: ")
		if !ok {
			t.Fatalf("%q: message %q", msg, e.Msg)
		}
		if e.Line == 0 {
			if text != strings.TrimPrefix(msg, "yaml: ") {
				t.Fatalf("%q: message %q", msg, e.Msg)
			}
			return
		}
		num, ok := strings.CutPrefix(strings.TrimSuffix(msg, ": "+text), "yaml: line ")
		if n, err := strconv.Atoi(num); !ok || err != nil || n != e.Line {
			t.Fatalf("%q: line %d, message %q", msg, e.Line, e.Msg)
		}
	})
}
