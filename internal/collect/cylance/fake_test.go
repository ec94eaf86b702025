package cylance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

type canned struct {
	status int
	header map[string]string
	body   string
}

// fakeCylance answers /auth/v2/token, /threats/v2 and /devices/v2 as the
// Cylance User API v2 guide documents them. Items are held as the exact
// bytes the pages embed.
type fakeCylance struct {
	t                   *testing.T
	srv                 *httptest.Server
	tenant, app, secret string
	mu                  sync.Mutex
	threats, devices    [][]byte
	tokens              map[string]bool
	issued, tokenCalls  int
	lists               []string
	canned              []canned
	lifetimes           []int64
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func newFakeCylance(t *testing.T) *fakeCylance {
	f := &fakeCylance{t: t, tenant: "4c0b7a4e-tenant", app: "a1b2c3d4-app", secret: "app-secret-value", tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/v2/token", f.token)
	mux.HandleFunc("GET /threats/v2", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, &f.threats) })
	mux.HandleFunc("GET /devices/v2", func(w http.ResponseWriter, r *http.Request) { f.list(w, r, &f.devices) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// threatJSON is a threat object in the documented shape; the field order
// and spacing are the fake's own, so tests can see the bytes are kept.
func threatJSON(name, sha string, lastFound time.Time) []byte {
	return []byte(fmt.Sprintf(`{"name": "%s", "sha256": "%s", "md5": "ACBD18DB4CC2F85CEDEF654FCCC4A4D8", "cylance_score": -1.0, "av_industry": null, "classification": "Malware", "sub_classification": "Trojan", "global_quarantined": false, "safelisted": false, "file_size": 73802, "unique_to_cylance": true, "last_found": "%s"}`,
		name, sha, lastFound.UTC().Format("2006-01-02T15:04:05")))
}

func deviceJSON(i int) []byte {
	return []byte(fmt.Sprintf(`{"id": "00000000-0000-4000-8000-%012d", "name": "PC%d", "state": "Online", "agent_version": "3.1.1001.38", "policy": {"id": "d5e41c2a", "name": "Default"}, "date_first_registered": "2024-01-15T08:30:00", "ip_addresses": ["10.0.0.%d"], "mac_addresses": ["00-0C-29-AA-BB-%02X"]}`, i, i, i, i))
}

func (f *fakeCylance) setThreats(items ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.threats = items
}

func (f *fakeCylance) setDevices(items ...[]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.devices = items
}

func (f *fakeCylance) expireTokens() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = map[string]bool{}
}

func (f *fakeCylance) queue(c ...canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned = append(f.canned, c...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeCylance) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	var req struct {
		AuthToken string `json:"auth_token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		writeJSON(w, 400, map[string]string{"message": "request body must be JSON"})
		return
	}
	parts := strings.Split(req.AuthToken, ".")
	if len(parts) != 3 {
		writeJSON(w, 400, map[string]string{"message": "malformed auth_token"})
		return
	}
	mac := hmac.New(sha256.New, []byte(f.secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if base64.RawURLEncoding.EncodeToString(mac.Sum(nil)) != parts[2] {
		writeJSON(w, 401, map[string]string{"message": "Invalid signature on auth_token"})
		return
	}
	var c map[string]any
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(cb, &c)
	jti, _ := c["jti"].(string)
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if c["iss"] != "http://cylance.com" || c["sub"] != f.app || c["tid"] != f.tenant || !uuidRE.MatchString(jti) || exp <= iat {
		writeJSON(w, 400, map[string]string{"message": fmt.Sprintf("bad claims %v", c)})
		return
	}
	f.lifetimes = append(f.lifetimes, int64(exp-iat))
	f.issued++
	tok := "cylance-access-" + strconv.Itoa(f.issued)
	f.tokens[tok] = true
	writeJSON(w, 200, map[string]string{"access_token": tok})
}

func (f *fakeCylance) list(w http.ResponseWriter, r *http.Request, items *[][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists = append(f.lists, r.URL.Path+"?"+r.URL.RawQuery)
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !f.tokens[tok] {
		writeJSON(w, 401, map[string]string{"message": "Unauthorized"})
		return
	}
	if len(f.canned) > 0 {
		c := f.canned[0]
		f.canned = f.canned[1:]
		for k, v := range c.header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(c.status)
		_, _ = w.Write([]byte(c.body))
		return
	}
	n, err1 := strconv.Atoi(r.URL.Query().Get("page"))
	size, err2 := strconv.Atoi(r.URL.Query().Get("page_size"))
	if err1 != nil || err2 != nil || n < 1 || size < 1 || size > 200 {
		writeJSON(w, 400, map[string]string{"message": "bad page or page_size"})
		return
	}
	total := (len(*items) + size - 1) / size
	var b strings.Builder
	fmt.Fprintf(&b, `{"page_number": %d, "page_size": %d, "total_pages": %d, "total_number_of_items": %d, "page_items": [`, n, size, total, len(*items))
	for i := (n - 1) * size; i < len(*items) && i < n*size; i++ {
		if i > (n-1)*size {
			b.WriteString(", ")
		}
		b.Write((*items)[i])
	}
	b.WriteString("]}")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(b.String()))
}
