// Package jwt signs the JSON Web Tokens (RFC 7519) that API collectors trade
// for access tokens: RS256 for Google service accounts and HS256 for
// Cylance applications. It only signs; verifying is the token endpoint's job.
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
	"errors"
	"fmt"
)

// Header is a JWT header. KeyID is optional.
type Header struct {
	Algorithm string `json:"alg"`
	Type      string `json:"typ"`
	KeyID     string `json:"kid,omitempty"`
}

// SignRS256 returns the compact JWT of claims signed with key (RSASSA
// PKCS#1 v1.5 with SHA-256). keyID, when not empty, goes in the header.
func SignRS256(claims any, key *rsa.PrivateKey, keyID string) (string, error) {
	if key == nil {
		return "", errors.New("jwt: no RSA key")
	}
	input, err := signingInput(Header{Algorithm: "RS256", Type: "JWT", KeyID: keyID}, claims)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return "", fmt.Errorf("jwt: sign RS256: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// SignHS256 returns the compact JWT of claims signed with HMAC-SHA256 under
// secret.
func SignHS256(claims any, secret []byte) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("jwt: empty HMAC secret")
	}
	input, err := signingInput(Header{Algorithm: "HS256", Type: "JWT"}, claims)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), nil
}

func signingInput(h Header, claims any) (string, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("jwt: header: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("jwt: claims: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(hb) + "." + base64.RawURLEncoding.EncodeToString(cb), nil
}

// ParseRSAPrivateKey reads the first PEM block of pemBytes as an RSA private
// key, PKCS#8 ("PRIVATE KEY", as in Google service account files) or PKCS#1
// ("RSA PRIVATE KEY"). Errors never quote the key.
func ParseRSAPrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(pemBytes)
	if block == nil {
		return nil, errors.New("jwt: private key is not PEM encoded")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("jwt: PKCS#8 private key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("jwt: private key is %T, want RSA", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("jwt: PKCS#1 private key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("jwt: PEM block is %q, want PRIVATE KEY or RSA PRIVATE KEY", block.Type)
	}
}
