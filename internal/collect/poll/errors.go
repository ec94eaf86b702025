package poll

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// HTTPError is an API answer that is neither a success nor worth retrying
// (or still failing after the retries).
type HTTPError struct {
	// Request is the method and URL without its query.
	Request string
	// Status is the HTTP status code.
	Status int
	// Message is the API's own error text when its body carries one, else
	// the start of the body.
	Message string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: %d %s", e.Request, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// maxMessage bounds the error text kept from a body.
const maxMessage = 512

func newHTTPError(what string, resp *http.Response, body []byte) *HTTPError {
	return &HTTPError{Request: what, Status: resp.StatusCode, Message: errorMessage(body)}
}

// errorMessage finds the error text in an API's error body: Google and
// Microsoft Graph answer {"error":{"code":..,"message":..}}, OAuth token
// endpoints {"error":"invalid_client","error_description":..}, others
// {"message":..}. Anything else is quoted as text, cut to maxMessage bytes.
func errorMessage(body []byte) string {
	var doc struct {
		Error            json.RawMessage `json:"error"`
		ErrorDescription string          `json:"error_description"`
		Message          string          `json:"message"`
		MessageCap       string          `json:"Message"`
	}
	if json.Unmarshal(body, &doc) == nil {
		var parts []string
		var code string
		if json.Unmarshal(doc.Error, &code) == nil && code != "" {
			parts = append(parts, code)
		} else {
			var obj struct {
				Code    any    `json:"code"`
				Message string `json:"message"`
			}
			if json.Unmarshal(doc.Error, &obj) == nil {
				if c, ok := obj.Code.(string); ok && c != "" {
					parts = append(parts, c)
				}
				if obj.Message != "" {
					parts = append(parts, obj.Message)
				}
			}
		}
		for _, m := range []string{doc.ErrorDescription, doc.Message, doc.MessageCap} {
			if m != "" {
				parts = append(parts, m)
			}
		}
		if len(parts) > 0 {
			return clean(strings.Join(parts, ": "))
		}
	}
	return clean(string(body))
}

// clean makes s one printable line of at most maxMessage bytes.
func clean(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
	if len(s) > maxMessage {
		cut := maxMessage
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// ParseRetryAfter reads a Retry-After header value (RFC 9110): a number of
// seconds or an HTTP date, which is turned into a wait from now. A date in
// the past is a wait of zero.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}
