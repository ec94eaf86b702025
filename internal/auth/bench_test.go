package auth

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkTokenVerify is the cost a bearer token adds to each request:
// a stat of the token file, a SHA-256 and a constant-time compare.
func BenchmarkTokenVerify(b *testing.B) {
	s := NewTokens(filepath.Join(b.TempDir(), "tokens.json"), nil)
	for i := 0; i < 100; i++ {
		if _, _, err := s.Create(TokenSpec{User: "u", TTL: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
	_, secret, err := s.Create(TokenSpec{User: "alice"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := s.Verify(secret); !ok {
			b.Fatal("no")
		}
	}
}

// BenchmarkPasswordArgon2Default is one login's password check with the
// parameters `mamori passwd` uses.
func BenchmarkPasswordArgon2Default(b *testing.B) {
	h, err := HashPassword("correct horse battery staple", DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !VerifyPassword(h, "correct horse battery staple") {
			b.Fatal("no")
		}
	}
}
