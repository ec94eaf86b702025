package auth

import (
	"strings"
	"testing"
)

// FuzzParseHash: any configured string either parses within the cost
// bounds or is refused; none panics.
func FuzzParseHash(f *testing.F) {
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$c29tZXNhbHRzb21lc2FsdA$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo")
	f.Add("$argon2id$m=1024,t=1,p=1$c29tZXNhbHQ$GpZ3sK/oH9p7VIiV56G/64Zo/8GaUw434IimaPqxwCo")
	f.Add("$2b$04$0LwNysTZsbNWpq.hgpKrtutRa.AATyG1zCmlOEPxUTMhLavf88hWG")
	f.Add("$argon2i$v=19$m=1024,t=1,p=1$c2FsdA$aGFzaA")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parseHash(s)
		if err != nil {
			return
		}
		if h.bcrypt != nil {
			if !strings.HasPrefix(s, "$2") {
				t.Fatalf("%q parsed as bcrypt", s)
			}
			return
		}
		p := h.params
		if p.Memory > maxArgon2Memory || p.Time > maxArgon2Time || p.Time == 0 || p.Threads == 0 || p.Memory < 8*uint32(p.Threads) {
			t.Fatalf("%q: parameters %+v out of bounds", s, p)
		}
		if len(h.salt) < 8 || len(h.key) < 16 {
			t.Fatalf("%q: salt %d bytes, key %d bytes", s, len(h.salt), len(h.key))
		}
	})
}

// FuzzSplitToken: a bearer value splits into an id of the fixed length and
// a secret, or is refused.
func FuzzSplitToken(f *testing.F) {
	f.Add("mamori_abcdefghijklmnop_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw")
	f.Add("mamori_")
	f.Add("mamori_abcdefghijklmnop__")
	f.Fuzz(func(t *testing.T, s string) {
		id, key, ok := splitToken(s)
		if !ok {
			return
		}
		if len(id) != tokenIDLen || key == "" || TokenPrefix+id+"_"+key != s {
			t.Fatalf("%q split into %q, %q", s, id, key)
		}
	})
}
