package jwt

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
	"testing"
)

func decodePart(t *testing.T, s string, v any) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("part %q is not base64url: %v", s, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("part %s is not JSON: %v", b, err)
	}
}

func TestSignRS256Verifies(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := SignRS256(map[string]any{"iss": "svc@example.iam.gserviceaccount.com", "iat": 1700000000}, key, "k1")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var h Header
	decodePart(t, parts[0], &h)
	if h != (Header{Algorithm: "RS256", Type: "JWT", KeyID: "k1"}) {
		t.Errorf("header %+v", h)
	}
	var c map[string]any
	decodePart(t, parts[1], &c)
	if c["iss"] != "svc@example.iam.gserviceaccount.com" || c["iat"] != float64(1700000000) {
		t.Errorf("claims %v", c)
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(&key.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
}

func TestSignHS256Verifies(t *testing.T) {
	secret := []byte("app-secret")
	tok, err := SignHS256(map[string]any{"sub": "app"}, secret)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	var h Header
	decodePart(t, parts[0], &h)
	if h.Algorithm != "HS256" || h.KeyID != "" {
		t.Errorf("header %+v", h)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if got := base64.RawURLEncoding.EncodeToString(mac.Sum(nil)); got != parts[2] {
		t.Fatalf("signature %s, want %s", parts[2], got)
	}
	if _, err := SignHS256(nil, nil); err == nil {
		t.Error("empty secret accepted")
	}
}

func TestParseRSAPrivateKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string][]byte{
		"pkcs8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		"pkcs1": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
	} {
		got, err := ParseRSAPrivateKey(p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !got.Equal(key) {
			t.Errorf("%s: parsed a different key", name)
		}
	}
	for name, p := range map[string]string{
		"not pem":   "hello",
		"wrong pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
		"garbage":   "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
	} {
		if _, err := ParseRSAPrivateKey([]byte(p)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
