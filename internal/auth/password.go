package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Argon2Params are the cost of an argon2id hash.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultArgon2 is what `mamori passwd` uses: RFC 9106's second
// recommendation (64 MiB, 3 passes) with two lanes; one check takes about
// 0.3 s on a busy 2-core machine (BenchmarkPasswordArgon2Default).
var DefaultArgon2 = Argon2Params{Memory: 64 << 10, Time: 3, Threads: 2}

// Bounds on a configured hash's cost: a typo must not make each login
// take minutes or gigabytes.
const (
	maxArgon2Memory = 1 << 20 // KiB: 1 GiB
	maxArgon2Time   = 64
	saltBytes       = 16
	keyBytes        = 32
)

// passwordHash is a parsed password hash.
type passwordHash struct {
	bcrypt []byte
	// argon2id
	params    Argon2Params
	salt, key []byte
}

// HashPassword returns an argon2id PHC string for password:
// $argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>.
func HashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, keyBytes)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// HashBcrypt returns a bcrypt hash of password at cost (bcrypt.DefaultCost
// when 0).
func HashBcrypt(password string, cost int) (string, error) {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	b, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// CheckHash reports whether s is a password hash mamori can verify.
func CheckHash(s string) error {
	_, err := parseHash(s)
	return err
}

func parseHash(s string) (passwordHash, error) {
	switch {
	case strings.HasPrefix(s, "$argon2id$"):
		return parseArgon2(s)
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return passwordHash{}, fmt.Errorf("bcrypt hash: %w", err)
		}
		if len(s) != 60 {
			return passwordHash{}, errors.New("bcrypt hash: want 60 characters")
		}
		return passwordHash{bcrypt: []byte(s)}, nil
	case strings.HasPrefix(s, "$argon2i$"), strings.HasPrefix(s, "$argon2d$"):
		return passwordHash{}, errors.New("argon2i and argon2d hashes are not accepted: use argon2id (mamori passwd)")
	case s == "":
		return passwordHash{}, errors.New("empty")
	}
	return passwordHash{}, errors.New("not an argon2id ($argon2id$...) or bcrypt ($2a$, $2b$) hash; `mamori passwd` prints one")
}

// parseArgon2 reads $argon2id$v=19$m=M,t=T,p=P$salt$hash (PHC; the
// version field may be absent, as in the oldest libraries).
func parseArgon2(s string) (passwordHash, error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", ["v=19",] "m=..,t=..,p=..", salt, hash
	if len(parts) == 5 {
		parts = append(parts[:2], append([]string{"v=16"}, parts[2:]...)...)
	}
	if len(parts) != 6 {
		return passwordHash{}, errors.New("argon2id hash: want $argon2id$v=19$m=...,t=...,p=...$salt$hash")
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return passwordHash{}, fmt.Errorf("argon2id hash: version %q: want v=%d", parts[2], argon2.Version)
	}
	var h passwordHash
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil || seen[k] {
			return passwordHash{}, fmt.Errorf("argon2id hash: parameter %q", kv)
		}
		seen[k] = true
		switch k {
		case "m":
			h.params.Memory = uint32(n)
		case "t":
			h.params.Time = uint32(n)
		case "p":
			if n > 255 {
				return passwordHash{}, fmt.Errorf("argon2id hash: p=%d: at most 255", n)
			}
			h.params.Threads = uint8(n)
		default:
			return passwordHash{}, fmt.Errorf("argon2id hash: unknown parameter %q", k)
		}
	}
	p := h.params
	switch {
	case !seen["m"] || !seen["t"] || !seen["p"]:
		return passwordHash{}, errors.New("argon2id hash: give m, t and p")
	case p.Threads == 0 || p.Time == 0:
		return passwordHash{}, errors.New("argon2id hash: t and p must be at least 1")
	case p.Memory < 8*uint32(p.Threads):
		return passwordHash{}, errors.New("argon2id hash: m must be at least 8 × p")
	case p.Memory > maxArgon2Memory || p.Time > maxArgon2Time:
		return passwordHash{}, fmt.Errorf("argon2id hash: cost over the limit (m ≤ %d KiB, t ≤ %d)", maxArgon2Memory, maxArgon2Time)
	}
	var err error
	if h.salt, err = decodeB64(parts[4]); err != nil || len(h.salt) < 8 {
		return passwordHash{}, errors.New("argon2id hash: salt is not base64 of at least 8 bytes")
	}
	if h.key, err = decodeB64(parts[5]); err != nil || len(h.key) < 16 {
		return passwordHash{}, errors.New("argon2id hash: hash is not base64 of at least 16 bytes")
	}
	return h, nil
}

// decodeB64 reads PHC's base64 (standard alphabet, no padding), and
// tolerates padding.
func decodeB64(s string) ([]byte, error) {
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}

// verify reports whether password matches, in time independent of where
// the two differ.
func (h passwordHash) verify(password string) bool {
	if h.bcrypt != nil {
		return bcrypt.CompareHashAndPassword(h.bcrypt, []byte(password)) == nil
	}
	key := argon2.IDKey([]byte(password), h.salt, h.params.Time, h.params.Memory, h.params.Threads, uint32(len(h.key)))
	return subtle.ConstantTimeCompare(key, h.key) == 1
}

// VerifyPassword reports whether password matches hash (a hash that does
// not parse matches nothing).
func VerifyPassword(hash, password string) bool {
	h, err := parseHash(hash)
	return err == nil && h.verify(password)
}
