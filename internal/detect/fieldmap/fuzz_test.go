package fieldmap

import (
	"testing"
)

// FuzzOverlay feeds the table reader arbitrary files: it must never panic,
// a failure must be an *Error naming the file, and every logsource a file
// adds must then resolve to its datasets with a working field mapper.
func FuzzOverlay(f *testing.F) {
	f.Add([]byte("table: t\nlogsources:\n  - {product: p, datasets: [d]}\nfields:\n  a: b\n  c.*: d.{snake}\nfallback: [\"{dataset}.{snake}\"]\n"))
	base, err := Builtin()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := base.Overlay("fuzz.yaml", data)
		if err != nil {
			fe, ok := err.(*Error)
			if !ok || fe.File != "fuzz.yaml" {
				t.Fatalf("error %T %v does not name the file", err, err)
			}
			return
		}
		for _, e := range m.entries[len(base.entries):] {
			s := m.Lookup(e.product, e.service, e.category)
			if s.Active() != (len(e.targets) > 0) {
				t.Fatalf("logsource %s: active %v with %d datasets", e.describe(), s.Active(), len(e.targets))
			}
			for _, name := range []string{"a", "A.b", "c.d.e", "eventName", ""} {
				if got := s.Fields.Fields(name); len(got) == 0 {
					t.Fatalf("%q maps to no field", name)
				}
				s.Fields.Value(name, "x")
			}
		}
	})
}
