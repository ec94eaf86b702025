package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/auth"
	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/search"
)

// SessionCookie is the console's session cookie.
const SessionCookie = "mamori_session"

// CSRFHeader carries a session's CSRF token on state-changing requests.
const CSRFHeader = "X-CSRF-Token"

// routeAuth adds the login, logout and "who am I" routes.
func (s *Server) routeAuth(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/v1/auth/login", s.handleLogin)
	mux.HandleFunc("POST /api/v1/auth/logout", s.handleLogout)
	mux.HandleFunc("GET /api/v1/auth/me", s.handleMe)
}

// openPath reports whether a path is served without authentication:
// health, the login endpoint, and the console's login page and static
// assets, which hold no data. An uncleaned path ("/assets/../api/...") is
// never open.
func openPath(p string) bool {
	if c := path.Clean(p); c != p && c+"/" != p {
		return false
	}
	switch p {
	case "/api/v1/health", "/api/v1/auth/login", "/login", "/favicon.ico":
		return true
	}
	return strings.HasPrefix(p, "/assets/")
}

// isAPI tells API routes (answered 401) from console pages (redirected to
// the login page).
func isAPI(p string) bool {
	return strings.HasPrefix(p, "/api/") || p == "/metrics" || strings.HasPrefix(p, "/debug/")
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// authenticate wraps the routes with access control when users are
// configured: it finds the caller (a bearer token, else the session
// cookie), checks the CSRF header of state-changing session requests and
// the caller's role, puts the caller and its dataset grants in the
// request's context (auth.WithPrincipal: every search made for the
// request is limited to what the caller sees), and writes the audit
// record of searches and alert changes.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Auth.Enabled() || openPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		p, ok := s.caller(r)
		if !ok {
			s.unauthenticated(w, r)
			return
		}
		if p.Via == auth.ViaSession && !safeMethod(r.Method) {
			got := r.Header.Get(CSRFHeader)
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.CSRF)) != 1 {
				s.deny(w, r, p, http.StatusForbidden, "missing or wrong "+CSRFHeader+" header")
				return
			}
		}
		if !auth.Permitted(p.Role, r.Method, r.URL.Path) {
			s.deny(w, r, p, http.StatusForbidden, "role "+string(p.Role)+" may not do this")
			return
		}
		note := &auditNote{}
		ctx := context.WithValue(auth.WithPrincipal(r.Context(), p), auditNoteKey{}, note)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r.WithContext(ctx))
		s.auditRequest(r, p, sw.status, note)
	})
}

// caller authenticates a request: a bearer token when an Authorization
// header is sent (then the cookie is not looked at), else the session
// cookie.
func (s *Server) caller(r *http.Request) (*auth.Principal, bool) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, false
		}
		return s.Auth.Token(strings.TrimSpace(tok))
	}
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, false
	}
	return s.Auth.Session(c.Value)
}

// unauthenticated answers a request without a valid session or token:
// console pages go to the login page, the API answers 401, and logging
// out without a session is done already.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(SessionCookie); err == nil {
		s.clearCookie(w, r) // an expired or unknown session
	}
	switch {
	case r.URL.Path == "/api/v1/auth/logout" && r.Method == http.MethodPost:
		w.WriteHeader(http.StatusNoContent)
	case !isAPI(r.URL.Path) && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusFound)
	default:
		w.Header().Set("WWW-Authenticate", `Bearer realm="mamori"`)
		writeError(w, http.StatusUnauthorized, "authentication required")
	}
}

// deny refuses an authenticated request, and records it.
func (s *Server) deny(w http.ResponseWriter, r *http.Request, p *auth.Principal, code int, reason string) {
	writeError(w, code, reason)
	rec := s.auditBase(r, p, code)
	rec.Action, rec.Outcome, rec.Reason = mamoriaudit.ActionDenied, mamoriaudit.Failure, reason
	s.Auth.Audit.Record(rec)
}

// auditNote is what a handler tells the audit record of its request.
type auditNote struct {
	searched bool
	query    string
	from, to time.Time
	results  int
	total    int64
}

type auditNoteKey struct{}

// noteSearch records a search's query, resolved range and result counts
// for the audit log (total < 0: not counted).
func noteSearch(ctx context.Context, query string, from, to time.Time, results int, total int64) {
	if n, ok := ctx.Value(auditNoteKey{}).(*auditNote); ok {
		*n = auditNote{searched: true, query: query, from: from, to: to, results: results, total: total}
	}
}

// auditRequest writes the audit record of a request, when it is one the
// audit log keeps: searches (any read with a query, so the console's
// histogram and facets too) and alert changes.
func (s *Server) auditRequest(r *http.Request, p *auth.Principal, status int, n *auditNote) {
	if s.Auth.Audit == nil {
		return
	}
	rec := s.auditBase(r, p, status)
	v := r.URL.Query()
	switch {
	case n.searched:
		rec.Action, rec.Query, rec.From, rec.To = mamoriaudit.ActionSearch, n.query, n.from, n.to
		if status < 400 {
			rec.Results = &n.results
			if n.total >= 0 {
				rec.Total = &n.total
			}
		}
	case r.Method == http.MethodGet && (v.Has("q") || r.URL.Path == "/api/v1/search"):
		rec.Action, rec.Query = mamoriaudit.ActionSearch, v.Get("q")
		rec.From, rec.To, _ = search.ParseRange(v.Get("from"), v.Get("to"), v.Get("since"), s.now())
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/api/v1/alerts/"):
		id, what, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/api/v1/alerts/"), "/")
		switch {
		case !ok:
			return
		case what == "ack":
			rec.Action = mamoriaudit.ActionAlertAck
		case what == "resolve":
			rec.Action = mamoriaudit.ActionAlertResolve
		default:
			return
		}
		rec.AlertID = id
	default:
		return
	}
	if status >= 400 {
		rec.Outcome, rec.Reason = mamoriaudit.Failure, http.StatusText(status)
	}
	s.Auth.Audit.Record(rec)
}

// auditBase is the part of an audit record every request shares.
func (s *Server) auditBase(r *http.Request, p *auth.Principal, status int) mamoriaudit.Record {
	rec := mamoriaudit.Record{Time: s.now(), Outcome: mamoriaudit.Success, SourceIP: s.clientIP(r),
		UserAgent: truncate(r.UserAgent(), 512), Method: r.Method, Path: r.URL.Path, Status: status}
	if p != nil {
		rec.User, rec.Role, rec.Via, rec.ViaToken = p.User, string(p.Role), p.Via, p.TokenID
	}
	return rec
}

func (s *Server) clientIP(r *http.Request) string {
	return s.Auth.ClientIP(r.RemoteAddr, r.Header.Get("X-Forwarded-For"))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// statusWriter remembers the status a handler answered.
type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushing).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// LoginRequest is the body of POST /api/v1/auth/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// WhoAmI is the body of a successful login and of GET /api/v1/auth/me.
type WhoAmI struct {
	AuthRequired bool   `json:"auth_required"`
	Username     string `json:"username,omitempty"`
	Role         string `json:"role,omitempty"`
	// CSRFToken goes in the X-CSRF-Token header of the session's
	// state-changing requests; absent for token callers, who need none.
	CSRFToken string `json:"csrf_token,omitempty"`
	// Via is "session" or "token".
	Via string `json:"via,omitempty"`
}

func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	if !s.Auth.Enabled() {
		writeError(w, http.StatusNotFound, "no users are configured: authentication is off")
		return
	}
	// JSON only: a cross-site HTML form cannot send it, so no other site
	// can log a browser in under an account of its choosing.
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "send the credentials as application/json")
		return
	}
	var body LoginRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, `body: want {"username": "...", "password": "..."}`)
		return
	}
	ip := s.clientIP(r)
	p, err := s.Auth.Login(r.Context(), body.Username, body.Password, ip)
	rec := s.auditBase(r, nil, http.StatusOK)
	rec.Action, rec.Via = mamoriaudit.ActionLogin, auth.ViaPassword
	// A name that is no user's is left out of the record: people type
	// their password into the name field.
	if _, known := s.Auth.Dir.Lookup(body.Username); known {
		rec.User = body.Username
	}
	var locked *auth.LockedError
	switch {
	case errors.As(err, &locked):
		secs := int(math.Ceil(locked.RetryAfter.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, http.StatusTooManyRequests, locked.Error())
		rec.Status, rec.Outcome, rec.Reason = http.StatusTooManyRequests, mamoriaudit.Failure, locked.Error()
	case errors.Is(err, auth.ErrBadCredentials):
		writeError(w, http.StatusUnauthorized, auth.ErrBadCredentials.Error())
		rec.Status, rec.Outcome, rec.Reason = http.StatusUnauthorized, mamoriaudit.Failure, auth.ErrBadCredentials.Error()
		if rec.User == "" {
			rec.Reason = "unknown user name"
		}
	case err != nil:
		s.Logger.Error("login failed", "err", err)
		writeError(w, http.StatusInternalServerError, "login failed")
		rec.Status, rec.Outcome, rec.Reason = http.StatusInternalServerError, mamoriaudit.Failure, "server error"
	default:
		// A browser that logs in again leaves its earlier session behind:
		// end it rather than let it live on unseen.
		if old, err := r.Cookie(SessionCookie); err == nil && old.Value != "" && old.Value != p.SessionID {
			if err := s.Auth.Logout(old.Value); err != nil {
				s.Logger.Error("login: ending the earlier session", "err", err)
			}
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: p.SessionID, Path: "/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(r)})
		writeJSON(w, http.StatusOK, WhoAmI{AuthRequired: true, Username: p.User, Role: string(p.Role), CSRFToken: p.CSRF, Via: p.Via})
		rec.Role = string(p.Role)
	}
	s.Auth.Audit.Record(rec)
}

func (s *Server) secureCookie(r *http.Request) bool { return r.TLS != nil || s.Auth.SecureCookies }

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secureCookie(r)})
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	p := auth.PrincipalFrom(r.Context())
	if p == nil { // authentication is off
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if p.Via == auth.ViaSession {
		if err := s.Auth.Logout(p.SessionID); err != nil {
			s.Logger.Error("logout: saving sessions", "err", err)
		}
		s.clearCookie(w, r)
		rec := s.auditBase(r, p, http.StatusNoContent)
		rec.Action = mamoriaudit.ActionLogout
		s.Auth.Audit.Record(rec)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	p := auth.PrincipalFrom(r.Context())
	if !s.Auth.Enabled() || p == nil {
		writeJSON(w, http.StatusOK, WhoAmI{AuthRequired: false})
		return
	}
	writeJSON(w, http.StatusOK, WhoAmI{AuthRequired: true, Username: p.User, Role: string(p.Role), CSRFToken: p.CSRF, Via: p.Via})
}
