package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
	"time"
)

// Sessions are the console's server-side sessions. A session id is 256
// random bits, handed to the browser in a cookie; mamori keeps only its
// SHA-256, in memory and (when a path is given) in a file, so that a
// restart does not log everyone out and the file holds nothing a browser
// could present.
type Sessions struct {
	path         string
	idle, maxAge time.Duration
	now          func() time.Time

	mu    sync.Mutex
	m     map[string]*session // by hex SHA-256 of the id
	dirty bool                // last_seen changed since the last save
}

type session struct {
	User     string    `json:"user"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

type sessionFile struct {
	Version  int                 `json:"version"`
	Sessions map[string]*session `json:"sessions"`
}

// maxSessionsPerUser bounds one user's sessions: a script that logs in
// in a loop must not grow the table without end. The oldest goes first.
const maxSessionsPerUser = 50

// NewSessions returns the session table, loaded from path when it
// exists ("" keeps sessions in memory only). Expired sessions are dropped.
func NewSessions(path string, idle, maxAge time.Duration, now func() time.Time) (*Sessions, error) {
	if now == nil {
		now = time.Now
	}
	s := &Sessions{path: path, idle: idle, maxAge: maxAge, now: now, m: map[string]*session{}}
	if path == "" {
		return s, nil
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("sessions: %w", err)
	}
	var f sessionFile
	if err := json.Unmarshal(data, &f); err != nil {
		// A damaged file costs everyone a login, nothing more.
		return s, fmt.Errorf("sessions %s: %w (starting without them)", path, err)
	}
	for k, v := range f.Sessions {
		if v != nil && len(k) == 64 {
			s.m[k] = v
		}
	}
	s.sweep(now())
	return s, nil
}

// sessionKey is how a session id is stored.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// CSRFToken is the CSRF token of a session: derived from its id, so that
// it needs no storage, and giving away nothing about the id.
func CSRFToken(sessionID string) string {
	m := hmac.New(sha256.New, []byte(sessionID))
	m.Write([]byte("mamori csrf token"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// randomID is 256 random bits, URL-safe.
func randomID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Create starts a session for user and returns its id.
func (s *Sessions) Create(user string) (string, error) {
	id, err := randomID()
	if err != nil {
		return "", err
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(now)
	s.limitUser(user)
	s.m[sessionKey(id)] = &session{User: user, Created: now, LastSeen: now}
	return id, s.saveLocked()
}

// limitUser drops a user's oldest sessions past the per-user bound.
func (s *Sessions) limitUser(user string) {
	var keys []string
	for k, v := range s.m {
		if v.User == user {
			keys = append(keys, k)
		}
	}
	if len(keys) < maxSessionsPerUser {
		return
	}
	sort.Slice(keys, func(i, j int) bool { return s.m[keys[i]].Created.Before(s.m[keys[j]].Created) })
	for _, k := range keys[:len(keys)-maxSessionsPerUser+1] {
		delete(s.m, k)
	}
}

// Lookup returns the user of a live session and marks it used.
func (s *Sessions) Lookup(id string) (string, bool) {
	if id == "" {
		return "", false
	}
	k := sessionKey(id)
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[k]
	if !ok {
		return "", false
	}
	if s.expired(v, now) {
		delete(s.m, k)
		s.dirty = true
		return "", false
	}
	v.LastSeen = now
	s.dirty = true
	return v.User, true
}

func (s *Sessions) expired(v *session, now time.Time) bool {
	return now.Sub(v.LastSeen) >= s.idle || now.Sub(v.Created) >= s.maxAge
}

// Delete ends a session (logout).
func (s *Sessions) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := sessionKey(id)
	if _, ok := s.m[k]; !ok {
		return nil
	}
	delete(s.m, k)
	return s.saveLocked()
}

// Len counts the live sessions.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(s.now())
	return len(s.m)
}

func (s *Sessions) sweep(now time.Time) {
	for k, v := range s.m {
		if s.expired(v, now) {
			delete(s.m, k)
			s.dirty = true
		}
	}
}

// Save writes the sessions' last use, when it changed, so that idle
// timeouts survive a restart. The server calls it now and then, and at
// shutdown; logins and logouts are saved at once.
func (s *Sessions) Save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(s.now())
	if !s.dirty {
		return nil
	}
	return s.saveLocked()
}

func (s *Sessions) saveLocked() error {
	if s.path == "" {
		s.dirty = false
		return nil
	}
	data, err := json.Marshal(sessionFile{Version: 1, Sessions: s.m})
	if err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	if err := writeFileAtomic(s.path, data); err != nil {
		return fmt.Errorf("sessions: %w", err)
	}
	s.dirty = false
	return nil
}
