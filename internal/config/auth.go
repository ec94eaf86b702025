package config

import "time"

// Auth configures access control (docs/access.md). With no users, every
// route is open, as on a loopback-only default install; once a user is
// configured, every route but health needs a session or an API token.
// Users, groups and grants are checked when the server starts (and by
// serve --check), by internal/auth.
type Auth struct {
	// Users who may log in. Passwords are never written here: give
	// password_hash, as `mamori passwd` prints it (argon2id or bcrypt).
	Users []User `yaml:"users"`
	// Groups are named dataset grants that users share ("staff": everything
	// but HR's logs), by name.
	Groups map[string]Grant `yaml:"groups"`
	// Session bounds console sessions.
	Session Session `yaml:"session"`
	// Login bounds password guessing.
	Login LoginLimits `yaml:"login"`
	// SecureCookies marks the session cookie Secure even when mamori
	// serves plain HTTP, for a TLS-terminating proxy in front of it.
	// Without it the cookie is Secure when mamori serves HTTPS itself.
	SecureCookies bool `yaml:"secure_cookies"`
	// TrustedProxies are the addresses (CIDRs) of reverse proxies whose
	// X-Forwarded-For header names the client, for rate limits and the
	// audit log. Without them the client is the connection's peer.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// AuditFlushInterval bounds how long an audit record waits before it
	// is archived (default 1s).
	AuditFlushInterval Duration `yaml:"audit_flush_interval"`
}

// User is one person (or service) who may log in.
type User struct {
	Name string `yaml:"name"`
	// PasswordHash is an argon2id PHC string
	// ($argon2id$v=19$m=65536,t=3,p=2$salt$hash) or a bcrypt hash
	// ($2a$/$2b$/$2y$). Empty: the user logs in with API tokens only.
	PasswordHash string `yaml:"password_hash"`
	// Role is admin or analyst (default analyst).
	Role string `yaml:"role"`
	// Groups name the groups whose grants apply to the user.
	Groups []string `yaml:"groups"`
	// Datasets is the user's own grant, added to the groups'.
	Datasets Grant `yaml:"datasets"`
}

// Grant says which datasets a reader sees: patterns are a dataset name,
// a family ("hr.*") or "*". Allows add up across a user's grants (a grant
// without allow allows every dataset); a deny in any of them hides the
// dataset whatever allows it.
type Grant struct {
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
}

// Session bounds console sessions.
type Session struct {
	// IdleTimeout ends a session unused this long (default 1h).
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxAge ends a session this long after login, used or not (default
	// 12h).
	MaxAge Duration `yaml:"max_age"`
}

// LoginLimits lock out a user name or a client address after repeated
// failed logins, for a time that doubles with each further failure.
type LoginLimits struct {
	// MaxFailures per user name before it is locked (default 5).
	MaxFailures int `yaml:"max_failures"`
	// MaxFailuresPerAddress per client address, across user names
	// (default 20: an office behind one NAT address shares it).
	MaxFailuresPerAddress int `yaml:"max_failures_per_address"`
	// Lockout is the first lock's length (default 30s); each failure
	// while past the limit doubles it, up to MaxLockout (default 15m).
	Lockout    Duration `yaml:"lockout"`
	MaxLockout Duration `yaml:"max_lockout"`
}

// Enabled reports whether any user is configured: then every route but
// health needs authentication.
func (a Auth) Enabled() bool { return len(a.Users) > 0 }

// finish fills the auth section's defaults.
func (a *Auth) finish() {
	if a.Session.IdleTimeout <= 0 {
		a.Session.IdleTimeout = Duration(time.Hour)
	}
	if a.Session.MaxAge <= 0 {
		a.Session.MaxAge = Duration(12 * time.Hour)
	}
	if a.Login.MaxFailures <= 0 {
		a.Login.MaxFailures = 5
	}
	if a.Login.MaxFailuresPerAddress <= 0 {
		a.Login.MaxFailuresPerAddress = 20
	}
	if a.Login.Lockout <= 0 {
		a.Login.Lockout = Duration(30 * time.Second)
	}
	if a.Login.MaxLockout <= 0 {
		a.Login.MaxLockout = Duration(15 * time.Minute)
	}
	if a.Login.MaxLockout < a.Login.Lockout {
		a.Login.MaxLockout = a.Login.Lockout
	}
	if a.AuditFlushInterval <= 0 {
		a.AuditFlushInterval = Duration(time.Second)
	}
	for i := range a.Users {
		if a.Users[i].Role == "" {
			a.Users[i].Role = "analyst"
		}
	}
}
