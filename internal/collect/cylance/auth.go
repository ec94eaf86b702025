package cylance

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mamori-sec/mamori/internal/collect/jwt"
	"github.com/mamori-sec/mamori/internal/collect/poll"
)

// claims are the Cylance API v2 authentication token's claims.
type claims struct {
	Exp      int64  `json:"exp"`
	Iat      int64  `json:"iat"`
	Iss      string `json:"iss"`
	Sub      string `json:"sub"` // the application ID
	TenantID string `json:"tid"`
	JTI      string `json:"jti"` // a fresh UUID per token
}

// fetchToken signs an authentication token with the application secret
// (HS256) and trades it for an access token that lives as long.
func fetchToken(ctx context.Context, client *poll.Client, baseURL, appID, tenantID string, secret []byte, life time.Duration, now time.Time) (poll.Token, error) {
	jti, err := newUUID()
	if err != nil {
		return poll.Token{}, fmt.Errorf("cylance token: %w", err)
	}
	exp := now.Add(life)
	authToken, err := jwt.SignHS256(claims{
		Exp: exp.Unix(), Iat: now.Unix(), Iss: "http://cylance.com",
		Sub: appID, TenantID: tenantID, JTI: jti,
	}, secret)
	if err != nil {
		return poll.Token{}, fmt.Errorf("cylance token: %w", err)
	}
	req, err := json.Marshal(map[string]string{"auth_token": authToken})
	if err != nil {
		return poll.Token{}, fmt.Errorf("cylance token: %w", err)
	}
	body, err := client.PostJSON(ctx, baseURL+"/auth/v2/token", req)
	if err != nil {
		return poll.Token{}, fmt.Errorf("cylance token for application %s: %w", appID, err)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return poll.Token{}, fmt.Errorf("cylance token: answer is not JSON: %w", err)
	}
	if resp.AccessToken == "" {
		return poll.Token{}, errors.New("cylance token: answer has no access_token")
	}
	return poll.Token{Value: resp.AccessToken, Expiry: exp}, nil
}

// newUUID returns a random (version 4) UUID.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
