package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// tokenEnv holds the API token the client commands send.
const tokenEnv = "MAMORI_TOKEN"

// apiClient is how the commands talk to a running server: every request
// carries the API token, when there is one, as a bearer token.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

// tokenFlag adds --token-file to a command that talks to a server.
func tokenFlag(fs *flag.FlagSet) *string {
	return fs.String("token-file", "", "file holding the API token (default: the "+tokenEnv+" environment variable)")
}

// newClient returns a client of server with the token of tokenFile, or of
// $MAMORI_TOKEN.
func newClient(server, tokenFile string, timeout time.Duration) (*apiClient, error) {
	tok := strings.TrimSpace(os.Getenv(tokenEnv))
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		if tok = strings.TrimSpace(string(b)); tok == "" {
			return nil, fmt.Errorf("--token-file %s is empty", tokenFile)
		}
	}
	if strings.ContainsAny(tok, " \t\r\n") {
		return nil, errors.New("the API token holds white space: is it the whole `mamori token create` output?")
	}
	return &apiClient{base: strings.TrimRight(server, "/"), token: tok, http: &http.Client{Timeout: timeout}}, nil
}

// do sends a request to path (with its query) on the server.
func (c *apiClient) do(ctx context.Context, method, path string, body io.Reader, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w (is `mamori serve` running? see --server)", err)
	}
	return resp, nil
}

// answerError is the error a server's non-200 answer stands for.
func answerError(resp *http.Response, data []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	msg := strings.TrimSpace(string(data))
	own := json.Unmarshal(data, &e) == nil && e.Error != ""
	if own {
		msg = e.Error
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return fmt.Errorf("%s: give an API token in $%s or --token-file (`mamori token create`, docs/access.md)", msg, tokenEnv)
	case resp.StatusCode == http.StatusForbidden:
		return fmt.Errorf("%s (the token's role does not allow it)", msg)
	case own:
		return errors.New(msg)
	}
	return fmt.Errorf("server answered %s: %s", resp.Status, msg)
}

// callAPI sends a request to a mamori server and decodes its JSON answer
// into out, or returns the server's error message.
func callAPI(ctx context.Context, c *apiClient, method, path string, body io.Reader, out any) error {
	h := http.Header{}
	if body != nil {
		h.Set("Content-Type", "application/json")
	}
	resp, err := c.do(ctx, method, path, body, h)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 256<<20))
	if err != nil {
		return fmt.Errorf("read the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return answerError(resp, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode the answer: %w", err)
	}
	return nil
}
