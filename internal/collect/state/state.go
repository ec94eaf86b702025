// Package state keeps collectors' cursors in small JSON files, one per
// collector, written atomically: a crash leaves either the old file or the
// new one, never a mix. A file that cannot be read back is an error, not a
// fresh start, because silently starting over would re-fetch or skip data.
package state

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Store is a directory of state files.
type Store struct {
	dir string
}

// Open returns the store in dir, creating the directory when missing.
func Open(dir string) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state: no directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the file that holds name's state.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name+".json") }

// ValidName reports whether name can name a state file: 1 to 100 bytes of
// [a-z0-9_.-], not starting with a dot.
func ValidName(name string) error {
	if name == "" || len(name) > 100 {
		return fmt.Errorf("state name %q: want 1 to 100 bytes", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '-':
		case c == '.' && i > 0:
		default:
			return fmt.Errorf("state name %q: byte %d (%q) is not allowed; use [a-z0-9_.-]", name, i, c)
		}
	}
	return nil
}

// Load reads name's state into v. It reports false, and leaves v alone, when
// there is no state yet. A file that exists but does not decode into v is an
// error that names the file.
func (s *Store) Load(name string, v any) (bool, error) {
	if err := ValidName(name); err != nil {
		return false, fmt.Errorf("state: %w", err)
	}
	path := s.Path(name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("state: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		return false, fmt.Errorf("state file %s is corrupt (%w); repair it, or remove it to start this collector from its initial look-back", path, err)
	}
	if dec.More() {
		return false, fmt.Errorf("state file %s is corrupt (data after the JSON document); repair it, or remove it to start over", path)
	}
	return true, nil
}

// Save writes v as name's state: to a temporary file that is synced, then
// renamed over the old one, then the directory is synced, so that the new
// state survives a crash once Save returns.
func (s *Store) Save(name string, v any) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("state: %w", err)
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("state %s: encode: %w", name, err)
	}
	b = append(b, '\n')
	path := s.Path(name)
	tmp, err := os.CreateTemp(s.dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("state %s: %w", name, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("state %s: write: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("state %s: sync: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("state %s: close: %w", name, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("state %s: rename: %w", name, err)
	}
	ok = true
	if err := syncDir(s.dir); err != nil {
		return fmt.Errorf("state %s: sync directory: %w", name, err)
	}
	return nil
}

// syncDir makes a rename in dir durable. Systems that cannot sync a
// directory (Windows) report an error that is not worth failing for.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}
