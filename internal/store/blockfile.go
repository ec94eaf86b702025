package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Block payloads — the packed raw records and the token filter — live in
// one file per block beside the database, not in a table: DuckDB rewrites a
// table's last, partly filled row group at every checkpoint, and with one
// row per block that was the whole blocks table, blobs included (measured:
// a third of a 10 M-event database was free space left by those rewrites,
// and checkpoints grew with the data). Files are written once and deleted
// by retention.
//
// A file is: the magic "MBLK1\n", the filter's length as a uvarint, the
// filter, then the zstd frame of the records' envelope NDJSON.

const blockMagic = "MBLK1\n"

// blockFiles stores block payloads under a directory, 4096 blocks a folder.
type blockFiles struct {
	dir string
}

func (f blockFiles) path(blk int64) string {
	return filepath.Join(f.dir, strconv.FormatInt(blk/4096, 10), strconv.FormatInt(blk, 10)+".blk")
}

// write stores a block's payload durably: temp file, fsync, rename, fsync
// of the folder, so that a committed block row never points at a torn file.
func (f blockFiles) write(blk int64, bloom, raw []byte) error {
	p := f.path(blk)
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("block %d: %w", blk, err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("block %d: %w", blk, err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	var hdr [len(blockMagic) + binary.MaxVarintLen64]byte
	n := copy(hdr[:], blockMagic)
	n += binary.PutUvarint(hdr[n:], uint64(len(bloom)))
	_, err = tmp.Write(hdr[:n])
	if err == nil {
		_, err = tmp.Write(bloom)
	}
	if err == nil {
		_, err = tmp.Write(raw)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("block %d: %w", blk, err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// read returns a block's filter and packed records.
func (f blockFiles) read(blk int64) (bloom, raw []byte, err error) {
	b, err := os.ReadFile(f.path(blk))
	if err != nil {
		return nil, nil, fmt.Errorf("block %d: %w", blk, err)
	}
	return splitBlockFile(blk, b)
}

// readBloom reads only a block's filter.
func (f blockFiles) readBloom(blk int64) ([]byte, error) {
	file, err := os.Open(f.path(blk))
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", blk, err)
	}
	defer file.Close()
	var hdr [len(blockMagic) + binary.MaxVarintLen64]byte
	n, err := io.ReadFull(file, hdr[:])
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("block %d: %w", blk, err)
	}
	size, start, err := parseBlockHeader(blk, hdr[:n])
	if err != nil {
		return nil, err
	}
	bloom := make([]byte, size)
	if _, err := file.ReadAt(bloom, int64(start)); err != nil {
		return nil, fmt.Errorf("block %d: filter: %w", blk, err)
	}
	return bloom, nil
}

func parseBlockHeader(blk int64, b []byte) (bloomLen uint64, start int, err error) {
	if !bytes.HasPrefix(b, []byte(blockMagic)) {
		return 0, 0, fmt.Errorf("block %d: not a block file", blk)
	}
	size, n := binary.Uvarint(b[len(blockMagic):])
	if n <= 0 {
		return 0, 0, fmt.Errorf("block %d: bad header", blk)
	}
	return size, len(blockMagic) + n, nil
}

func splitBlockFile(blk int64, b []byte) (bloom, raw []byte, err error) {
	size, start, err := parseBlockHeader(blk, b)
	if err != nil {
		return nil, nil, err
	}
	if uint64(len(b)-start) < size {
		return nil, nil, fmt.Errorf("block %d: truncated", blk)
	}
	end := start + int(size)
	return b[start:end], b[end:], nil
}

// remove deletes a block's file; a missing file is not an error.
func (f blockFiles) remove(blk int64) error {
	if err := os.Remove(f.path(blk)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("block %d: %w", blk, err)
	}
	return nil
}

// removeFrom deletes the files of blocks numbered from first on: payloads
// written for a transaction that did not commit.
func (f blockFiles) removeFrom(first int64) error {
	return filepath.WalkDir(f.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if n, err := strconv.ParseInt(d.Name(), 10, 64); err == nil && n < first/4096 {
				return fs.SkipDir // every block in it is older
			}
			return nil
		}
		name := d.Name()
		if strings.HasPrefix(name, ".tmp-") {
			return os.Remove(p)
		}
		blk, err := strconv.ParseInt(strings.TrimSuffix(name, ".blk"), 10, 64)
		if err == nil && blk >= first {
			return os.Remove(p)
		}
		return nil
	})
}

// removeRange deletes the files of n blocks from first.
func (f blockFiles) removeRange(first, n int64) error {
	var errs []error
	for blk := first; blk < first+n; blk++ {
		if err := f.remove(blk); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
