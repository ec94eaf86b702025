package tail

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// headBytes is how much of a file's beginning identifies it.
const headBytes = 1024

// fileID identifies a file across restarts and renames: by device and
// inode where the system has them, and by a checksum of its first bytes, so
// that a file that reuses an inode, or one rewritten in place, is not taken
// for the one read before.
type fileID struct {
	Dev uint64 `json:"dev,omitempty"`
	Ino uint64 `json:"ino,omitempty"`
	// Head is the hex SHA-256 of the file's first HeadLen bytes (at most
	// headBytes; fewer while the file is shorter).
	Head    string `json:"head"`
	HeadLen int64  `json:"head_len"`
}

func (id fileID) String() string {
	h := id.Head
	if len(h) > 16 {
		h = h[:16]
	}
	return fmt.Sprintf("%x:%x:%s", id.Dev, id.Ino, h)
}

// identify returns the identity of the open file f.
func identify(f *os.File) (fileID, os.FileInfo, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileID{}, nil, err
	}
	var id fileID
	id.Dev, id.Ino, _ = devIno(fi)
	id.HeadLen = min(fi.Size(), headBytes)
	if id.Head, err = headSum(f, id.HeadLen); err != nil {
		return fileID{}, nil, err
	}
	return id, fi, nil
}

// headSum is the checksum of f's first n bytes.
func headSum(f *os.File, n int64) (string, error) {
	b := make([]byte, n)
	if _, err := f.ReadAt(b, 0); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return "", fmt.Errorf("read head of %s: %w", f.Name(), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// sameHead reports whether f still begins with the bytes id was taken
// from. A file now shorter than that does not.
func sameHead(f *os.File, id fileID) (bool, error) {
	if id.HeadLen == 0 {
		return true, nil
	}
	b := make([]byte, id.HeadLen)
	if _, err := f.ReadAt(b, 0); err != nil {
		if errors.Is(err, io.EOF) {
			return false, nil
		}
		return false, fmt.Errorf("read head of %s: %w", f.Name(), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]) == id.Head, nil
}

// matches reports whether the open file f is the file id was taken from.
func matches(f *os.File, fi os.FileInfo, id fileID) (bool, error) {
	if dev, ino, ok := devIno(fi); ok && (id.Dev != 0 || id.Ino != 0) && (dev != id.Dev || ino != id.Ino) {
		return false, nil
	}
	return sameHead(f, id)
}

// findRenamed looks in dir for the file id was taken from, under another
// name: a file rotated by renaming while mamori was not running. It needs
// inodes; without them it finds nothing.
func findRenamed(dir string, id fileID) (*os.File, error) {
	if id.Dev == 0 && id.Ino == 0 {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		if dev, ino, ok := devIno(info); !ok || dev != id.Dev || ino != id.Ino {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if ok, err := sameHead(f, id); err != nil || !ok {
			_ = f.Close()
			return nil, err
		}
		return f, nil
	}
	return nil, nil
}
