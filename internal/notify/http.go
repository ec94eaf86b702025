package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mamori-sec/mamori/internal/alert"
)

// maxResponse bounds how much of a receiver's answer is read.
const maxResponse = 64 << 10

type response struct {
	status int
	body   []byte
	header http.Header
}

// post sends a JSON body. Its errors leave the URL out: a Slack webhook's
// URL is its secret, and the *url.Error of net/http spells it out.
func post(ctx context.Context, client *http.Client, target string, body []byte, header http.Header) (response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return response{}, alert.Permanent(fmt.Errorf("bad request: %w", err))
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "mamori")
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return response{}, fmt.Errorf("POST: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		// The status arrived; the body is only for error messages.
		b = nil
	}
	return response{status: resp.StatusCode, body: b, header: resp.Header}, nil
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// classify turns a non-2xx status into the outbox's terms: 429 waits for
// Retry-After, 408 and 5xx are retried, other statuses are refusals.
func classify(r response, now time.Time, err error) error {
	switch {
	case r.status == http.StatusTooManyRequests:
		return alert.RetryAfter(err, retryAfter(r.header, now))
	case r.status == http.StatusRequestTimeout || r.status >= 500:
		return err
	default:
		return alert.Permanent(err)
	}
}

// snippet is a receiver's answer cut for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "?")
	}
	return truncate(s, 200)
}

// truncate cuts s to at most n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
