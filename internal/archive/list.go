package archive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// List calls fn for every object whose key starts with prefix, in key
// order, streaming the listing page by page. It stops at the first error
// fn returns and returns it. Temp files of in-flight file:// writes are
// never listed.
func (a *Archive) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	it := a.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive list %q: %w", prefix, err)
		}
		if a.files != nil && strings.HasPrefix(obj.Key, tmpDirName+"/") {
			continue
		}
		if err := fn(ObjectInfo{Key: obj.Key, Size: obj.Size, ModTime: obj.ModTime.UTC()}); err != nil {
			return err
		}
	}
}

// Delete deletes the object at key.
func (a *Archive) Delete(ctx context.Context, key string) error {
	if err := a.bucket.Delete(ctx, key); err != nil {
		return fmt.Errorf("archive delete %s: %w", key, a.wrapErr(err))
	}
	return nil
}

// Pruned counts what DeleteBefore deleted.
type Pruned struct {
	Objects int
	Bytes   int64
	// Kept counts the objects past the cutoff that keep spared.
	Kept int
}

// DeleteBefore applies retention to one dataset: it deletes the objects
// mamori wrote under raw/{dataset}/ whose whole hour (the key's time path)
// ends at or before cutoff. It reads no object and needs no object
// metadata: it walks the time path level by level (year, month, day, hour)
// with delimiter listings, never descending into periods that start at or
// after the cutoff, and lists only the hours it deletes. Objects under the
// prefix that are not in mamori's key layout are left alone. On file://
// the emptied directories are removed too.
//
// keep, when not nil, spares the objects it returns true for (objects the
// store still reads records from); their hours are kept in Pruned.Kept.
//
// On S3 a lifecycle rule on the raw/{dataset}/ prefix does the same job
// without any requests from mamori.
func (a *Archive) DeleteBefore(ctx context.Context, dataset string, cutoff time.Time, keep func(key string) bool) (Pruned, error) {
	var p Pruned
	if err := ValidateDataset(dataset); err != nil {
		return p, fmt.Errorf("archive retention: %w", err)
	}
	err := a.prune(ctx, DatasetPrefix(dataset), nil, cutoff.UTC(), keep, &p)
	if err != nil {
		return p, fmt.Errorf("archive retention %s before %s: %w", dataset, cutoff.UTC().Format(time.RFC3339), err)
	}
	return p, nil
}

// timeDepth is the number of time path segments: yyyy/mm/dd/hh.
const timeDepth = 4

// levelWidth is the width of time path segment level (0 = year).
func levelWidth(level int) int {
	if level == 0 {
		return 4
	}
	return 2
}

// prune handles the directory prefix whose time path so far is path
// (len(path) levels deep).
func (a *Archive) prune(ctx context.Context, prefix string, path []int, cutoff time.Time, keep func(string) bool, p *Pruned) error {
	level := len(path)
	it := a.bucket.List(&blob.ListOptions{Prefix: prefix, Delimiter: "/"})
	// Collect first: deleting while listing the same level would change
	// what the listing pages over.
	type period struct {
		prefix string
		path   []int
		start  time.Time
		end    time.Time
	}
	var periods []period
	for {
		obj, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", prefix, err)
		}
		if !obj.IsDir {
			continue
		}
		name := strings.TrimSuffix(strings.TrimPrefix(obj.Key, prefix), "/")
		n, err := parseFixed(name, levelWidth(level))
		if err != nil {
			continue // not a time path segment: not ours
		}
		pp := append(append([]int(nil), path...), n)
		start, end, ok := periodOf(pp)
		if !ok {
			continue
		}
		periods = append(periods, period{prefix: obj.Key, path: pp, start: start, end: end})
	}
	last := level == timeDepth-1
	for _, per := range periods {
		whollyBefore := !per.end.After(cutoff)
		switch {
		case !per.start.Before(cutoff):
			// Entirely at or after the cutoff: keep, without listing.
		case last && whollyBefore:
			if err := a.deleteAll(ctx, per.prefix, keep, p); err != nil {
				return err
			}
		case !last:
			// Go down even when the whole period is before the cutoff, so
			// that deletion proceeds hour by hour with bounded memory.
			if err := a.prune(ctx, per.prefix, per.path, cutoff, keep, p); err != nil {
				return err
			}
			if whollyBefore && a.files != nil {
				a.files.removeEmptyDirs(a.files.path(strings.TrimSuffix(per.prefix, "/")))
			}
		}
	}
	return nil
}

// periodOf returns the UTC period that a time path prefix (year; year,
// month; ...; year, month, day, hour) names, and false when it names none
// (month 13, hour 24, ...).
func periodOf(path []int) (start, end time.Time, ok bool) {
	v := [4]int{0, 1, 1, 0}
	copy(v[:], path)
	start = time.Date(v[0], time.Month(v[1]), v[2], v[3], 0, 0, 0, time.UTC)
	if start.Year() != v[0] || int(start.Month()) != v[1] || start.Day() != v[2] || start.Hour() != v[3] {
		return time.Time{}, time.Time{}, false
	}
	switch len(path) {
	case 1:
		end = start.AddDate(1, 0, 0)
	case 2:
		end = start.AddDate(0, 1, 0)
	case 3:
		end = start.AddDate(0, 0, 1)
	default:
		end = start.Add(time.Hour)
	}
	return start, end, true
}

// deleteAll deletes every object in mamori's layout under prefix that
// keep does not spare.
func (a *Archive) deleteAll(ctx context.Context, prefix string, keep func(string) bool, p *Pruned) error {
	var doomed []ObjectInfo
	err := a.List(ctx, prefix, func(o ObjectInfo) error {
		if _, err := ParseKey(o.Key); err != nil {
			return nil
		}
		if keep != nil && keep(o.Key) {
			p.Kept++
			return nil
		}
		doomed = append(doomed, o)
		return nil
	})
	if err != nil {
		return err
	}
	for _, o := range doomed {
		if err := a.Delete(ctx, o.Key); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		p.Objects++
		p.Bytes += o.Size
	}
	if a.files != nil {
		a.files.removeEmptyDirs(a.files.path(strings.TrimSuffix(prefix, "/")))
	}
	return nil
}
