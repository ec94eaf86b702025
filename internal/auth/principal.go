// Package auth is mamori's access control: users and their password hashes
// from the configuration, roles and per-dataset grants, console sessions,
// API tokens, login rate limits and the audit log. The HTTP side (the
// middleware and the login routes) is internal/api/auth.go; docs/access.md
// describes the behaviour.
package auth

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/mamori-sec/mamori/internal/search"
)

// Role is what a caller may do.
type Role string

// Roles. Users are admins or analysts; tokens may carry a narrower role.
const (
	// Admin may do everything, and sees every dataset.
	Admin Role = "admin"
	// Analyst searches, works alerts and uses the console, within the
	// user's dataset grants.
	Analyst Role = "analyst"
	// Ingest (tokens only) sends logs: POST /api/v1/intake/* and the
	// archive scan, nothing else.
	Ingest Role = "ingest"
	// Metrics (tokens only) reads /metrics, for a Prometheus scraper.
	Metrics Role = "metrics"
)

// ParseRole checks a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Admin, Analyst, Ingest, Metrics:
		return r, nil
	}
	return "", fmt.Errorf("role %q: want admin, analyst, ingest or metrics", s)
}

// UserRole reports whether a user (not only a token) may hold r.
func (r Role) UserRole() bool { return r == Admin || r == Analyst }

// Ways a caller is authenticated.
const (
	ViaPassword = "password"
	ViaSession  = "session"
	ViaToken    = "token"
	ViaCLI      = "cli"
)

// Principal is an authenticated caller.
type Principal struct {
	User string
	Role Role
	// Access is what the caller may read; nil reads everything.
	Access *search.Access
	// Via is ViaSession or ViaToken.
	Via string
	// TokenID is the API token's id when Via is ViaToken.
	TokenID string
	// CSRF is the session's CSRF token when Via is ViaSession.
	CSRF string
	// SessionID is the session's id when Via is ViaSession (never logged).
	SessionID string
}

type principalKey struct{}

// WithPrincipal returns a context carrying p, and p's dataset access for
// every search made on its behalf (search.WithAccess).
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	ctx = context.WithValue(ctx, principalKey{}, p)
	return search.WithAccess(ctx, p.Access)
}

// PrincipalFrom returns the caller WithPrincipal put in ctx, or nil (auth
// off, or an open route).
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// denyAll is the access of callers that read no events (ingest and
// metrics tokens): a safety net behind the role checks.
var denyAll = &search.Access{Deny: []string{"*"}}

// Permitted reports whether role may make a request of method to path:
//
//   - admin: everything;
//   - analyst: the console, every read of the API (GET), and
//     acknowledging and resolving alerts;
//   - ingest (tokens): POST /api/v1/intake/* and POST /api/v1/archive/scan;
//   - metrics (tokens): GET /metrics.
//
// Every caller may ask who it is and log out. Other state-changing API
// requests (running rules over history, ...) are the admins'.
func Permitted(role Role, method, path string) bool {
	switch {
	case role == Admin:
		return true
	case path == "/api/v1/auth/me" || path == "/api/v1/auth/logout":
		return true
	case path == "/metrics":
		return role == Metrics
	case strings.HasPrefix(path, "/debug/"):
		return false // profiles: admins only
	case method == "POST" && (strings.HasPrefix(path, "/api/v1/intake/") || path == "/api/v1/archive/scan"):
		return role == Ingest
	case role != Analyst:
		return false
	case strings.HasPrefix(path, "/api/"):
		if method == "GET" || method == "HEAD" {
			return true
		}
		return method == "POST" && alertChange.MatchString(path)
	}
	return true // console pages
}

// alertChange is an alert acknowledgement or resolution.
var alertChange = regexp.MustCompile(`^/api/v1/alerts/[^/]+/(ack|resolve)$`)
