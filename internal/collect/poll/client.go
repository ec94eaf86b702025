// Package poll is what the API collectors share: an HTTP client that retries
// the way vendors ask (Retry-After on 429, exponential back-off with jitter on
// 5xx and network errors, one token refresh on 401), a cache of access
// tokens, closed query windows with their persisted cursors, and the loop
// that polls every interval.
package poll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
)

// MaxBodyBytes is the largest response body read: the archive's record limit
// (archive.MaxRecordBytes), since one page is archived as one record.
const MaxBodyBytes = 16 << 20

// Defaults of Client's retry settings.
const (
	DefaultMaxAttempts   = 8
	DefaultMinBackoff    = time.Second
	DefaultMaxBackoff    = 5 * time.Minute
	DefaultMaxRetryAfter = time.Hour
)

// Authorizer supplies the bearer token of API requests.
type Authorizer interface {
	// Token returns a token, fetching a new one when none is cached.
	Token(ctx context.Context) (string, error)
	// Invalidate drops token, which the API refused, so that the next
	// Token call fetches a fresh one.
	Invalidate(token string)
}

// Client makes API requests with retries. Its zero fields other than HTTP,
// Sleep and Now take the defaults above; NewClient fills them all.
type Client struct {
	HTTP *http.Client
	// Auth, when set, adds "Authorization: Bearer <token>" to every request
	// and is asked for a fresh token, once per request, after a 401.
	Auth   Authorizer
	Sleep  func(ctx context.Context, d time.Duration) error
	Now    func() time.Time
	Jitter func() float64
	Logger *slog.Logger
	// MaxAttempts bounds the tries of one request that meets 429, 5xx or
	// network errors.
	MaxAttempts int
	// MinBackoff is the first wait after a 5xx or network error; it doubles
	// per failure up to MaxBackoff, and the wait actually taken is between
	// half of it and all of it (jitter).
	MinBackoff, MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a Retry-After header asks for.
	MaxRetryAfter time.Duration
	// UserAgent is sent with every request when set.
	UserAgent string
}

// NewClient returns a client that uses env's HTTP client, clock, sleep,
// jitter and logger, authorized by auth (nil for none). env must have its
// defaults set (collect.Env.WithDefaults).
func NewClient(env collect.Env, auth Authorizer) *Client {
	return &Client{
		HTTP:          env.HTTPClient,
		Auth:          auth,
		Sleep:         env.Sleep,
		Now:           env.Now,
		Jitter:        env.Jitter,
		Logger:        env.Logger,
		MaxAttempts:   DefaultMaxAttempts,
		MinBackoff:    DefaultMinBackoff,
		MaxBackoff:    DefaultMaxBackoff,
		MaxRetryAfter: DefaultMaxRetryAfter,
		UserAgent:     "mamori",
	}
}

// Get fetches rawURL and returns the body of its 2xx answer.
func (c *Client) Get(ctx context.Context, rawURL string) ([]byte, error) {
	return c.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err == nil {
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	})
}

// PostForm posts form to rawURL and returns the body of its 2xx answer.
func (c *Client) PostForm(ctx context.Context, rawURL string, form url.Values) ([]byte, error) {
	body := form.Encode()
	return c.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, strings.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	})
}

// PostJSON posts body, a JSON document, to rawURL and returns the body of
// its 2xx answer.
func (c *Client) PostJSON(ctx context.Context, rawURL string, body []byte) ([]byte, error) {
	return c.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
		if err == nil {
			req.Header.Set("Content-Type", "application/json; charset=utf-8")
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	})
}

// Do sends the request newReq builds (once per attempt, as a body can be
// read only once) and returns the body of the first 2xx answer. 429, 408 and
// 5xx answers and network errors are retried up to MaxAttempts times, after
// the wait of the answer's Retry-After or else an exponential back-off; a 401
// is retried once with a fresh token; any other answer is an *HTTPError.
func (c *Client) Do(ctx context.Context, newReq func(ctx context.Context) (*http.Request, error)) ([]byte, error) {
	refreshed := false
	for attempt := 1; ; attempt++ {
		req, err := newReq(ctx)
		if err != nil {
			return nil, fmt.Errorf("build request: %w", err)
		}
		what := req.Method + " " + redactURL(req.URL)
		token := ""
		if c.Auth != nil {
			if token, err = c.Auth.Token(ctx); err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if c.UserAgent != "" {
			req.Header.Set("User-Agent", c.UserAgent)
		}

		resp, err := c.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if attempt >= c.maxAttempts() {
				return nil, fmt.Errorf("%s: %w (gave up after %d attempts)", what, err, attempt)
			}
			wait := c.backoff(attempt)
			c.Logger.Warn("API request failed; retrying", "request", what, "error", err, "attempt", attempt, "wait", wait)
			if err := c.Sleep(ctx, wait); err != nil {
				return nil, err
			}
			continue
		}
		body, readErr := readBody(resp.Body)
		_ = resp.Body.Close()

		status := resp.StatusCode
		switch {
		case status >= 200 && status < 300:
			if readErr == nil {
				return body, nil
			}
			if errors.Is(readErr, errBodyTooLarge) || ctx.Err() != nil || attempt >= c.maxAttempts() {
				return nil, fmt.Errorf("%s: read answer: %w", what, readErr)
			}
			wait := c.backoff(attempt)
			c.Logger.Warn("API answer cut short; retrying", "request", what, "error", readErr, "attempt", attempt, "wait", wait)
			if err := c.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		case status == http.StatusUnauthorized && c.Auth != nil && !refreshed:
			// The token expired early or was revoked: fetch a new one once.
			c.Auth.Invalidate(token)
			refreshed = true
			attempt--
			c.Logger.Info("API refused the access token; fetching a new one", "request", what)
		case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
			herr := newHTTPError(what, resp, body)
			if attempt >= c.maxAttempts() {
				return nil, fmt.Errorf("%w (gave up after %d attempts)", herr, attempt)
			}
			wait, ok := c.retryAfter(resp.Header.Get("Retry-After"))
			if !ok {
				wait = c.backoff(attempt)
			}
			c.Logger.Warn("API asked to retry", "request", what, "status", status, "attempt", attempt, "wait", wait)
			if err := c.Sleep(ctx, wait); err != nil {
				return nil, err
			}
		default:
			herr := newHTTPError(what, resp, body)
			if status == http.StatusUnauthorized && refreshed {
				herr.Message += " (refused again with a freshly fetched token)"
			}
			return nil, herr
		}
	}
}

func (c *Client) maxAttempts() int {
	if c.MaxAttempts <= 0 {
		return DefaultMaxAttempts
	}
	return c.MaxAttempts
}

// backoff is the wait after the attempt-th failure: MinBackoff doubled per
// earlier failure, capped at MaxBackoff, of which a random half is taken off
// so that many clients do not retry in step.
func (c *Client) backoff(attempt int) time.Duration {
	lo, hi := c.MinBackoff, c.MaxBackoff
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	d := lo
	for i := 1; i < attempt && d < hi; i++ {
		d *= 2
	}
	d = min(d, hi)
	j := 0.5
	if c.Jitter != nil {
		j = c.Jitter()
	}
	return d/2 + time.Duration(j*float64(d/2))
}

// retryAfter reads a Retry-After header: delay seconds or an HTTP date.
func (c *Client) retryAfter(v string) (time.Duration, bool) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	d, ok := ParseRetryAfter(v, now())
	if !ok {
		return 0, false
	}
	maxWait := c.MaxRetryAfter
	if maxWait <= 0 {
		maxWait = DefaultMaxRetryAfter
	}
	return min(d, maxWait), true
}

var errBodyTooLarge = fmt.Errorf("answer is larger than %d bytes, the archive's record limit (ask for smaller pages)", MaxBodyBytes)

func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxBodyBytes+1))
	if err != nil {
		return b, err
	}
	if len(b) > MaxBodyBytes {
		return nil, errBodyTooLarge
	}
	return b, nil
}

// redactURL is u without its query: queries carry no secrets in the APIs
// polled here, but page tokens and filters make log lines long.
func redactURL(u *url.URL) string {
	v := *u
	v.RawQuery, v.ForceQuery, v.Fragment, v.User = "", false, "", nil
	return v.String()
}
