package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/mamori-sec/mamori/internal/collect/poll"
)

// fetchToken gets an app-only token with the client credentials grant of
// the Microsoft identity platform (v2.0 endpoint).
func fetchToken(ctx context.Context, client *poll.Client, tokenURL, clientID, secret, scope string, now time.Time) (poll.Token, error) {
	form := url.Values{
		"client_id":     {clientID},
		"client_secret": {secret},
		"scope":         {scope},
		"grant_type":    {"client_credentials"},
	}
	body, err := client.PostForm(ctx, tokenURL, form)
	if err != nil {
		return poll.Token{}, fmt.Errorf("microsoft token for client %s: %w", clientID, err)
	}
	var resp struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return poll.Token{}, fmt.Errorf("microsoft token: answer is not JSON: %w", err)
	}
	if resp.AccessToken == "" {
		return poll.Token{}, errors.New("microsoft token: answer has no access_token")
	}
	t := poll.Token{Value: resp.AccessToken}
	if resp.ExpiresIn > 0 {
		t.Expiry = now.Add(time.Duration(resp.ExpiresIn) * time.Second)
	}
	return t, nil
}
