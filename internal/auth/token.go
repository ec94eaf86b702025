package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mamori-sec/mamori/internal/datasets/mamoriaudit"
	"github.com/mamori-sec/mamori/internal/intake"
)

// Token is an API token as stored: its secret is not, only the secret's
// SHA-256 (the secret is 256 random bits, so a fast hash is enough).
type Token struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
	User string `json:"user"`
	// Role narrows the user's role ("" is the user's own); ingest and
	// metrics tokens may name any user (a sender, a scraper).
	Role      Role      `json:"role,omitempty"`
	Hash      string    `json:"hash"`
	Created   time.Time `json:"created"`
	CreatedBy string    `json:"created_by,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
	Revoked   time.Time `json:"revoked,omitzero"`
	RevokedBy string    `json:"revoked_by,omitempty"`
}

// Live reports whether the token is usable at now.
func (t *Token) Live(now time.Time) bool {
	return t.Revoked.IsZero() && (t.Expires.IsZero() || now.Before(t.Expires))
}

// State is "active", "expired" or "revoked".
func (t *Token) State(now time.Time) string {
	switch {
	case !t.Revoked.IsZero():
		return "revoked"
	case !t.Live(now):
		return "expired"
	}
	return "active"
}

type tokenFile struct {
	Version int     `json:"version"`
	Tokens  []Token `json:"tokens"`
}

// TokenPrefix begins every token, so that a leaked one is recognisable
// (secret scanners, logs).
const TokenPrefix = "mamori_"

const tokenIDLen = 16 // base32 of 10 random bytes

var tokenIDEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Tokens is the API token store: a JSON file under the data directory
// (DATA_DIR/auth/tokens.json, mode 0600). `mamori token` changes it
// under a file lock, with or without a running server; the server reads
// it again whenever it changed, so a token works, or stops working, at
// once.
type Tokens struct {
	path string
	now  func() time.Time
	// OnChange, when set, is told of every token that Refresh finds new
	// or newly revoked (not of those present at the first load).
	OnChange func(t Token, action string)

	mu     sync.Mutex
	byID   map[string]Token
	stamp  fileStamp
	loaded bool
}

// fileStamp tells whether a file changed since it was read.
type fileStamp struct {
	mod  time.Time
	size int64
	ino  any
}

func stampOf(fi os.FileInfo) fileStamp {
	return fileStamp{mod: fi.ModTime(), size: fi.Size(), ino: fileIdentity(fi)}
}

// NewTokens returns the store at path.
func NewTokens(path string, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{path: path, now: now, byID: map[string]Token{}}
}

// Path is the token file.
func (s *Tokens) Path() string { return s.path }

// read loads the file (absent: no tokens).
func (s *Tokens) read() ([]Token, fileStamp, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fileStamp{}, nil
	}
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("tokens: %w", err)
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return nil, fileStamp{}, fmt.Errorf("tokens: %w", err)
	}
	var f tokenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fileStamp{}, fmt.Errorf("tokens %s: %w", s.path, err)
	}
	return f.Tokens, stampOf(fi), nil
}

// Refresh reads the file again if it changed since it was last read, and
// tells OnChange of tokens created or revoked meanwhile. A file that
// cannot be read keeps the tokens last read.
func (s *Tokens) Refresh() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshLocked()
}

func (s *Tokens) refreshLocked() error {
	fi, err := os.Stat(s.path)
	var st fileStamp
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("tokens: %w", err)
	default:
		st = stampOf(fi)
	}
	if s.loaded && st == s.stamp {
		return nil
	}
	list, st, err := s.read()
	if err != nil {
		return err
	}
	next := make(map[string]Token, len(list))
	for _, t := range list {
		next[t.ID] = t
	}
	if s.loaded && s.OnChange != nil {
		for _, t := range list {
			old, had := s.byID[t.ID]
			if !had {
				s.OnChange(t, mamoriaudit.ActionTokenCreate)
			}
			if !t.Revoked.IsZero() && (!had || old.Revoked.IsZero()) {
				s.OnChange(t, mamoriaudit.ActionTokenRevoke)
			}
		}
	}
	s.byID, s.stamp, s.loaded = next, st, true
	return nil
}

// Verify returns the live token a bearer secret is, reading the file
// again first if it changed.
func (s *Tokens) Verify(secret string) (Token, bool) {
	id, key, ok := splitToken(secret)
	if !ok {
		return Token{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.refreshLocked() // an unreadable file keeps the tokens last read
	t, ok := s.byID[id]
	if !ok {
		return Token{}, false
	}
	sum := sha256.Sum256([]byte(key))
	want, err := hex.DecodeString(t.Hash)
	if err != nil || subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return Token{}, false
	}
	if !t.Live(s.now()) {
		return Token{}, false
	}
	return t, true
}

// splitToken reads mamori_<id>_<secret>.
func splitToken(s string) (id, key string, ok bool) {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok || len(rest) < tokenIDLen+2 || rest[tokenIDLen] != '_' {
		return "", "", false
	}
	return rest[:tokenIDLen], rest[tokenIDLen+1:], true
}

// TokenSpec is a token to create.
type TokenSpec struct {
	User string
	Role Role // "" for the user's own
	Name string
	// TTL is how long the token lives; 0 never expires.
	TTL time.Duration
	// By names who creates it (for the audit log).
	By string
}

// Create stores a new token and returns it with its secret, which is
// shown once and stored nowhere.
func (s *Tokens) Create(spec TokenSpec) (Token, string, error) {
	if err := CheckUserName(spec.User); err != nil {
		return Token{}, "", err
	}
	if spec.Role != "" {
		if _, err := ParseRole(string(spec.Role)); err != nil {
			return Token{}, "", err
		}
	}
	if len(spec.Name) > 200 || strings.ContainsAny(spec.Name, "\n\r") {
		return Token{}, "", errors.New("token name: one line of at most 200 bytes")
	}
	raw := make([]byte, 10+32)
	if _, err := rand.Read(raw); err != nil {
		return Token{}, "", fmt.Errorf("random: %w", err)
	}
	id := tokenIDEncoding.EncodeToString(raw[:10])
	key := base64.RawURLEncoding.EncodeToString(raw[10:])
	sum := sha256.Sum256([]byte(key))
	now := s.now().UTC().Truncate(time.Millisecond)
	t := Token{ID: id, Name: spec.Name, User: spec.User, Role: spec.Role, Hash: hex.EncodeToString(sum[:]),
		Created: now, CreatedBy: spec.By}
	if spec.TTL > 0 {
		t.Expires = now.Add(spec.TTL)
	}
	err := s.update(func(list []Token) ([]Token, error) {
		for _, o := range list {
			if o.ID == id {
				return nil, errors.New("token id collision: try again")
			}
		}
		return append(list, t), nil
	})
	if err != nil {
		return Token{}, "", err
	}
	return t, TokenPrefix + id + "_" + key, nil
}

// ErrNoToken is a token id that is not in the store.
var ErrNoToken = errors.New("no such token")

// Revoke marks a token revoked, so it stops working at once (it stays
// listed). Revoking a revoked token changes nothing.
func (s *Tokens) Revoke(id, by string) (Token, error) {
	var out Token
	err := s.update(func(list []Token) ([]Token, error) {
		for i := range list {
			if list[i].ID == id {
				if list[i].Revoked.IsZero() {
					list[i].Revoked = s.now().UTC().Truncate(time.Millisecond)
					list[i].RevokedBy = by
				}
				out = list[i]
				return list, nil
			}
		}
		return nil, fmt.Errorf("%w: %q", ErrNoToken, id)
	})
	return out, err
}

// List returns every token, newest first, as the file holds them now.
func (s *Tokens) List() ([]Token, error) {
	list, _, err := s.read()
	if err != nil {
		return nil, err
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].Created.After(list[j].Created) })
	return list, nil
}

// update changes the file under its lock, from its current content.
func (s *Tokens) update(change func([]Token) ([]Token, error)) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	unlock, err := lockFile(s.path + ".lock")
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	defer unlock()
	list, _, err := s.read()
	if err != nil {
		return err
	}
	list, err = change(list)
	if err != nil {
		return err
	}
	data, err := json.MarshalIndent(tokenFile{Version: 1, Tokens: list}, "", "  ")
	if err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	if err := writeFileAtomic(s.path, data); err != nil {
		return fmt.Errorf("tokens: %w", err)
	}
	return nil
}

// TokenAudit is the audit record of a token's creation or revocation, and
// the name of the archive batch that holds it: whoever writes it (the
// command that made the change, or the server that noticed it) writes the
// same object, which is processed once.
func TokenAudit(t Token, action string) (mamoriaudit.Record, intake.Batch) {
	rec := mamoriaudit.Record{Action: action, Outcome: mamoriaudit.Success, Via: ViaCLI,
		Token: &mamoriaudit.Token{ID: t.ID, Name: t.Name, User: t.User, Role: string(t.Role), Expires: t.Expires}}
	at, by := t.Created, t.CreatedBy
	if action == mamoriaudit.ActionTokenRevoke {
		at, by = t.Revoked, t.RevokedBy
	}
	rec.Time, rec.User = at, by
	b := intake.Batch{Dataset: mamoriaudit.Name, Listener: "auth", ID: action + "/" + t.ID,
		Records: []intake.Record{{Data: rec.Marshal(), Received: at}}}
	return rec, b
}
