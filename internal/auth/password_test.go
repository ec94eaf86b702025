package auth

import (
	"strings"
	"testing"
)

// fastArgon2 keeps tests quick; the format is what matters here.
var fastArgon2 = Argon2Params{Memory: 1024, Time: 1, Threads: 1}

func TestArgon2RoundTrip(t *testing.T) {
	h, err := HashPassword("correct horse battery staple", fastArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash %q: not a PHC argon2id string", h)
	}
	if err := CheckHash(h); err != nil {
		t.Fatalf("CheckHash(%q): %v", h, err)
	}
	if !VerifyPassword(h, "correct horse battery staple") {
		t.Error("the right password does not verify")
	}
	for _, wrong := range []string{"", "correct horse battery stapl", "Correct horse battery staple", "correct horse battery staple "} {
		if VerifyPassword(h, wrong) {
			t.Errorf("wrong password %q verifies", wrong)
		}
	}
	h2, _ := HashPassword("correct horse battery staple", fastArgon2)
	if h2 == h {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
}

// TestBcryptFromAnotherImplementation verifies a hash made by libxcrypt
// (Python's crypt module, METHOD_BLOWFISH, 2^4 rounds), not by mamori.
func TestBcryptFromAnotherImplementation(t *testing.T) {
	const h = "$2b$04$0LwNysTZsbNWpq.hgpKrtutRa.AATyG1zCmlOEPxUTMhLavf88hWG"
	if err := CheckHash(h); err != nil {
		t.Fatal(err)
	}
	if !VerifyPassword(h, "correct horse battery staple") {
		t.Error("the right password does not verify")
	}
	if VerifyPassword(h, "correct horse battery") {
		t.Error("a wrong password verifies")
	}
	own, err := HashBcrypt("pw", 4)
	if err != nil || !VerifyPassword(own, "pw") || VerifyPassword(own, "pW") {
		t.Errorf("bcrypt round trip: %q, %v", own, err)
	}
}

func TestCheckHashRejects(t *testing.T) {
	good, _ := HashPassword("x", fastArgon2)
	parts := strings.Split(good, "$") // "", argon2id, v=19, params, salt, hash
	for name, tc := range map[string]struct{ hash, want string }{
		"empty":       {"", "empty"},
		"plain text":  {"hunter2", "not an argon2id"},
		"md5crypt":    {"$1$abc$def", "not an argon2id"},
		"argon2i":     {"$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "argon2i and argon2d"},
		"version":     {"$argon2id$v=18$" + strings.Join(parts[3:], "$"), "version"},
		"huge memory": {"$argon2id$v=19$m=4194304,t=1,p=1$" + parts[4] + "$" + parts[5], "over the limit"},
		"many passes": {"$argon2id$v=19$m=1024,t=1000,p=1$" + parts[4] + "$" + parts[5], "over the limit"},
		"no p":        {"$argon2id$v=19$m=1024,t=1$" + parts[4] + "$" + parts[5], "give m, t and p"},
		"unknown key": {"$argon2id$v=19$m=1024,t=1,p=1,x=2$" + parts[4] + "$" + parts[5], "unknown parameter"},
		"bad salt":    {"$argon2id$v=19$m=1024,t=1,p=1$!!!$" + parts[5], "salt"},
		"short hash":  {"$argon2id$v=19$m=1024,t=1,p=1$" + parts[4] + "$YWJj", "hash is not"},
		"bcrypt cut":  {"$2b$04$0LwNysTZsbNWpq.hgpKrtutRa", "bcrypt"},
	} {
		err := CheckHash(tc.hash)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CheckHash = %v, want an error about %q", name, err, tc.want)
		}
		if VerifyPassword(tc.hash, "x") {
			t.Errorf("%s: a hash that does not parse verified", name)
		}
	}
}
