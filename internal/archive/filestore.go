package archive

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"gocloud.dev/blob"
	"gocloud.dev/blob/fileblob"
)

// tmpDirName is the directory, at the root of a file:// archive, where
// objects are written before they are renamed into place. Listings skip it.
const tmpDirName = ".mamori-tmp"

// staleTempAge is how old a temp file must be before Open removes it as
// left over from a crash: no write takes anywhere near that long.
const staleTempAge = time.Hour

const (
	dirMode  = 0o750
	fileMode = 0o640
)

// fileStore writes the objects of a file:// archive durably.
//
// gocloud.dev's fileblob (v0.47.0) writes a temp file and renames it on
// Writer.Close but never calls fsync: neither on the file nor on the
// directory. After a power loss a "written" object could be missing, empty
// or truncated, and by default its temp file lives in os.TempDir, often
// another file system (or tmpfs). So Put writes file:// objects itself:
// temp file in <root>/.mamori-tmp → write → fsync → rename into place →
// fsync the directory. Reads, listings and deletes still go through
// fileblob, which sees the same files.
type fileStore struct {
	root string
	tmp  string

	mu sync.Mutex
	// dirs holds directories whose entries, up to the root, this process
	// has made durable, so that each is synced once, not on every Put.
	dirs map[string]struct{}
}

// openFile opens a file:// archive: the directory is created when missing.
func openFile(u *url.URL) (*fileStore, *blob.Bucket, error) {
	if u.Host != "" && u.Host != "localhost" {
		return nil, nil, fmt.Errorf("file url has host %q: want file:///absolute/dir", u.Host)
	}
	if len(u.Query()) > 0 {
		return nil, nil, fmt.Errorf("file url takes no query parameters, got %q", u.RawQuery)
	}
	dir := filepath.Clean(u.Path)
	if u.Path == "" || !filepath.IsAbs(dir) {
		return nil, nil, fmt.Errorf("file url path %q is not absolute: want file:///absolute/dir", u.Path)
	}
	fs := &fileStore{root: dir, tmp: filepath.Join(dir, tmpDirName), dirs: map[string]struct{}{}}
	if err := os.MkdirAll(fs.tmp, dirMode); err != nil {
		return nil, nil, fmt.Errorf("create %s: %w", fs.tmp, err)
	}
	// The root may have just been made: make its entry durable too.
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := syncDir(d); err != nil {
			return nil, nil, err
		}
	}
	// Metadata is not written: Put does not use fileblob's writer, and
	// sidecar ".attrs" files, written without fsync, could be left
	// truncated by a crash and then fail reads of the object they describe.
	b, err := fileblob.OpenBucket(dir, &fileblob.Options{
		NoTempDir:   true,
		Metadata:    fileblob.MetadataDontWrite,
		DirFileMode: dirMode,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", dir, err)
	}
	return fs, b, nil
}

// path maps a key to its file. Keys written by Put contain only
// [A-Za-z0-9_./-] and no "." or ".." segments (ValidateDataset), which
// fileblob maps to the same path unescaped.
func (fs *fileStore) path(key string) string {
	return filepath.Join(fs.root, filepath.FromSlash(key))
}

// write stores data at key and returns once it is durable.
func (fs *fileStore) write(ctx context.Context, key string, data []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	path := fs.path(key)
	dir := filepath.Dir(path)
	if err := fs.ensureDir(dir); err != nil {
		return err
	}
	tmp := filepath.Join(fs.tmp, filepath.Base(path)+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	// Last chance to give up without publishing the object.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename into place: %w", err)
	}
	// The rename is durable only once the directory is synced.
	if err := syncDir(dir); err != nil {
		return err
	}
	return nil
}

// maxDirCache bounds fs.dirs (one entry per dataset and hour written).
const maxDirCache = 4096

// ensureDir creates dir and makes its entry, and each parent's up to the
// root, durable. It syncs even directories that already exist when this
// process first meets them: a process that crashed between mkdir and sync
// may have left an entry that is not on disk yet.
func (fs *fileStore) ensureDir(dir string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if _, ok := fs.dirs[dir]; ok {
		return nil
	}
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	for d := dir; d != fs.root; d = filepath.Dir(d) {
		parent := filepath.Dir(d)
		if parent == d || !strings.HasPrefix(d, fs.root) {
			return fmt.Errorf("directory %s is outside the archive %s", dir, fs.root)
		}
		if err := syncDir(parent); err != nil {
			return err
		}
	}
	if len(fs.dirs) >= maxDirCache {
		clear(fs.dirs)
	}
	fs.dirs[dir] = struct{}{}
	return nil
}

// syncDir fsyncs a directory, making the entries in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// removeStaleTemps deletes temp files that a crashed write left behind.
// Errors are ignored: a leftover temp file is harmless, only untidy.
func (fs *fileStore) removeStaleTemps(now time.Time) {
	entries, err := os.ReadDir(fs.tmp)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() || now.Sub(info.ModTime()) < staleTempAge {
			continue
		}
		_ = os.Remove(filepath.Join(fs.tmp, e.Name()))
	}
}

// removeEmptyDirs removes the empty directories under and including dir,
// deepest first, after retention deleted what they held. Directories
// still holding something stay.
func (fs *fileStore) removeEmptyDirs(dir string) {
	var dirs []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = os.Remove(dirs[i]) // fails, as it should, when not empty
	}
}
