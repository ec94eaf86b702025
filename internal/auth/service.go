package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"time"

	"github.com/mamori-sec/mamori/internal/config"
	"github.com/mamori-sec/mamori/internal/intake"
)

// Service is access control as the server runs it: the users, their
// sessions and tokens, the login limits and the audit log.
type Service struct {
	Dir      *Directory
	Sessions *Sessions
	Tokens   *Tokens
	Limiter  *Limiter
	// Audit is nil when no user is configured: there is no "who" to
	// record.
	Audit *Auditor
	// SecureCookies marks the session cookie Secure even over plain HTTP.
	SecureCookies bool

	maxFailures, maxPerAddress int
	now                        func() time.Time
	// verifying bounds concurrent password checks: each argon2id check
	// takes tens of MiB, and a flood of logins must not take them all.
	verifying chan struct{}
}

// Options are what a Service needs besides the auth section.
type Options struct {
	// DataDir holds the token and session files (DATA_DIR/auth/).
	DataDir string
	// Sink receives audit records (the server's intake).
	Sink   intake.Sink
	Logger *slog.Logger
	Now    func() time.Time
	// MemorySessions keeps sessions in memory only (tests).
	MemorySessions bool
}

// TokenFile is where the API tokens of a data directory are kept.
func TokenFile(dataDir string) string { return filepath.Join(dataDir, "auth", "tokens.json") }

// SessionFile is where console sessions of a data directory are kept.
func SessionFile(dataDir string) string { return filepath.Join(dataDir, "auth", "sessions.json") }

// NewService builds access control from the auth section; its errors are
// the section's problems, one per line.
func NewService(cfg config.Auth, opts Options) (*Service, error) {
	dir, err := NewDirectory(cfg)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	sessionPath := SessionFile(opts.DataDir)
	if opts.MemorySessions {
		sessionPath = ""
	}
	sessions, err := NewSessions(sessionPath, time.Duration(cfg.Session.IdleTimeout), time.Duration(cfg.Session.MaxAge), now)
	if err != nil {
		if sessions == nil {
			return nil, err
		}
		logger.Warn("console sessions not restored", "err", err)
	}
	s := &Service{Dir: dir, Sessions: sessions, Tokens: NewTokens(TokenFile(opts.DataDir), now),
		Limiter:       NewLimiter(time.Duration(cfg.Login.Lockout), time.Duration(cfg.Login.MaxLockout), now),
		SecureCookies: cfg.SecureCookies, maxFailures: cfg.Login.MaxFailures, maxPerAddress: cfg.Login.MaxFailuresPerAddress,
		now: now, verifying: make(chan struct{}, 2)}
	if dir.Enabled() && opts.Sink != nil {
		s.Audit = NewAuditor(opts.Sink, logger, now)
	}
	if err := s.Tokens.Refresh(); err != nil {
		return nil, err
	}
	return s, nil
}

// Enabled reports whether authentication is required (users configured).
func (s *Service) Enabled() bool { return s != nil && s.Dir.Enabled() }

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// ErrBadCredentials is a failed login: the same for an unknown user and a
// wrong password.
var ErrBadCredentials = errors.New("invalid username or password")

// LockedError is a login refused because the user name or the client
// address failed too often.
type LockedError struct{ RetryAfter time.Duration }

func (e *LockedError) Error() string {
	return fmt.Sprintf("too many failed logins: retry in %s", e.RetryAfter.Round(time.Second))
}

// Bounds on login input: a password hash is computed for what passes.
const (
	maxUserNameBytes = 256
	maxPasswordBytes = 1024
)

// Login checks a user name and password from a client address and starts
// a session.
func (s *Service) Login(ctx context.Context, name, password, clientIP string) (*Principal, error) {
	if len(name) > maxUserNameBytes || len(password) > maxPasswordBytes {
		return nil, ErrBadCredentials
	}
	userKey, ipKey := "user:"+strings.ToLower(name), "ip:"+clientIP
	if d := max(s.Limiter.Locked(userKey), s.Limiter.Locked(ipKey)); d > 0 {
		return nil, &LockedError{RetryAfter: d}
	}
	select {
	case s.verifying <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	u, ok := s.Dir.Authenticate(name, password)
	<-s.verifying
	if !ok {
		s.Limiter.Fail(userKey, s.maxFailures)
		s.Limiter.Fail(ipKey, s.maxPerAddress)
		return nil, ErrBadCredentials
	}
	s.Limiter.Reset(userKey)
	id, err := s.Sessions.Create(u.Name)
	if err != nil {
		return nil, err
	}
	p := u.Principal("", ViaSession)
	p.SessionID, p.CSRF = id, CSRFToken(id)
	return p, nil
}

// Session returns the caller of a live session id.
func (s *Service) Session(id string) (*Principal, bool) {
	name, ok := s.Sessions.Lookup(id)
	if !ok {
		return nil, false
	}
	u, ok := s.Dir.Lookup(name)
	if !ok {
		// The user was removed from the configuration.
		_ = s.Sessions.Delete(id)
		return nil, false
	}
	p := u.Principal("", ViaSession)
	p.SessionID, p.CSRF = id, CSRFToken(id)
	return p, true
}

// Token returns the caller of a bearer token.
func (s *Service) Token(secret string) (*Principal, bool) {
	t, ok := s.Tokens.Verify(secret)
	if !ok {
		return nil, false
	}
	var p *Principal
	switch t.Role {
	case Ingest, Metrics:
		p = &Principal{User: t.User, Role: t.Role, Access: denyAll, Via: ViaToken}
	default:
		u, ok := s.Dir.Lookup(t.User)
		if !ok {
			return nil, false // the user was removed: their tokens end with them
		}
		p = u.Principal(t.Role, ViaToken)
	}
	p.TokenID = t.ID
	return p, true
}

// Logout ends a session.
func (s *Service) Logout(sessionID string) error { return s.Sessions.Delete(sessionID) }

// ClientIP is the address of the client behind a request: the
// connection's peer, or, when the peer is a trusted proxy, the last
// address of X-Forwarded-For that is not one.
func (s *Service) ClientIP(remoteAddr, forwardedFor string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	peer = peer.Unmap()
	if !s.trusted(peer) || forwardedFor == "" {
		return peer.String()
	}
	hops := strings.Split(forwardedFor, ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break // a garbled hop: trust nothing before it
		}
		a = a.Unmap()
		if !s.trusted(a) {
			return a.String()
		}
		peer = a
	}
	return peer.String()
}

func (s *Service) trusted(a netip.Addr) bool {
	for _, p := range s.Dir.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// CheckTokenUser reports whether a token for user with role may be
// created: a user token's owner must be configured, and a token never
// carries more than its owner's role.
func (d *Directory) CheckTokenUser(user string, role Role) error {
	if err := CheckUserName(user); err != nil {
		return err
	}
	if role == Ingest || role == Metrics {
		return nil
	}
	u, ok := d.Lookup(user)
	if !ok {
		return fmt.Errorf("no user %q in auth.users (tokens of other names may only be --role ingest or metrics)", user)
	}
	if role == Admin && u.Role != Admin {
		return fmt.Errorf("user %q is an %s: a token cannot carry more than its user's role", user, u.Role)
	}
	return nil
}
