package googleworkspace

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/mamori-sec/mamori/internal/collect/jwt"
	"github.com/mamori-sec/mamori/internal/collect/poll"
)

// serviceAccount is what the collector uses of a service account key file.
type serviceAccount struct {
	email    string
	keyID    string
	key      *rsa.PrivateKey
	tokenURL string
}

// parseServiceAccount reads a service account JSON key. Errors name the
// missing or bad field, never the key.
func parseServiceAccount(b []byte) (serviceAccount, error) {
	var f struct {
		Type         string `json:"type"`
		ClientEmail  string `json:"client_email"`
		PrivateKey   string `json:"private_key"`
		PrivateKeyID string `json:"private_key_id"`
		TokenURI     string `json:"token_uri"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		// The JSON error may quote the file; say only where it failed.
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return serviceAccount{}, fmt.Errorf("service account key is not JSON (error at byte %d)", se.Offset)
		}
		return serviceAccount{}, errors.New("service account key is not a JSON object of strings")
	}
	if f.Type != "" && f.Type != "service_account" {
		return serviceAccount{}, fmt.Errorf("credentials are of type %q, want a service_account key", f.Type)
	}
	if f.ClientEmail == "" {
		return serviceAccount{}, errors.New("service account key has no client_email")
	}
	if f.PrivateKey == "" {
		return serviceAccount{}, errors.New("service account key has no private_key")
	}
	key, err := jwt.ParseRSAPrivateKey([]byte(f.PrivateKey))
	if err != nil {
		return serviceAccount{}, fmt.Errorf("service account key: %w", err)
	}
	return serviceAccount{email: f.ClientEmail, keyID: f.PrivateKeyID, key: key, tokenURL: f.TokenURI}, nil
}

// tokenLifetime is the life asked for in the assertion; Google's maximum.
const tokenLifetime = time.Hour

// fetchToken trades a signed assertion for an access token (OAuth 2.0 JWT
// bearer grant, RFC 7523).
func fetchToken(ctx context.Context, client *poll.Client, sa serviceAccount, tokenURL, subject string, now time.Time) (poll.Token, error) {
	iat := now.Unix()
	claims := map[string]any{
		"iss":   sa.email,
		"scope": Scope,
		"aud":   tokenURL,
		"sub":   subject,
		"iat":   iat,
		"exp":   iat + int64(tokenLifetime/time.Second),
	}
	assertion, err := jwt.SignRS256(claims, sa.key, sa.keyID)
	if err != nil {
		return poll.Token{}, fmt.Errorf("google token: %w", err)
	}
	form := url.Values{
		"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"},
		"assertion":  {assertion},
	}
	body, err := client.PostForm(ctx, tokenURL, form)
	if err != nil {
		return poll.Token{}, fmt.Errorf("google token for %s as %s: %w", sa.email, subject, err)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return poll.Token{}, fmt.Errorf("google token: answer is not JSON: %w", err)
	}
	if resp.AccessToken == "" {
		return poll.Token{}, errors.New("google token: answer has no access_token")
	}
	t := poll.Token{Value: resp.AccessToken}
	if resp.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(resp.ExpiresIn) * time.Second)
	}
	return t, nil
}
