package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/mamori-sec/mamori/internal/archive"
	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/queue"
	"github.com/mamori-sec/mamori/internal/store"
)

// SourcePrefix maps archive keys written by others to a dataset. With no
// Dataset, each object's dataset is the one whose key patterns match its
// key (dataset.Registry.ForKey); objects no dataset claims are skipped.
type SourcePrefix struct {
	Prefix  string
	Dataset string
}

// Scanner finds archive objects that no notification announced: mamori's
// own objects archived just before a crash, and objects that external
// writers (CloudTrail, fluentd's S3 output) drop under configured prefixes.
type Scanner struct {
	Archive *archive.Archive
	Store   *store.Store
	Queue   *queue.Local
	Sources []SourcePrefix
	// Datasets recognises objects of sources without a dataset.
	Datasets *dataset.Registry
	Logger   *slog.Logger
}

// ScanOwn lists mamori's raw/ prefix. It is needed once at start-up, to
// announce objects archived just before a crash.
func (s *Scanner) ScanOwn(ctx context.Context) (int, error) {
	return s.scan(ctx, archive.RawPrefix, func(key string) (string, bool) {
		info, err := archive.ParseKey(key)
		if err != nil {
			s.Logger.Warn("ignoring object with an unknown key layout under raw/", "key", key, "err", err)
			return "", false
		}
		return info.Dataset, true
	})
}

// ScanSources lists every configured source prefix.
func (s *Scanner) ScanSources(ctx context.Context) (int, error) {
	total := 0
	for _, src := range s.Sources {
		n, err := s.scan(ctx, src.Prefix, s.datasetOf(src))
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

// datasetOf returns how a source's objects get their dataset.
func (s *Scanner) datasetOf(src SourcePrefix) func(key string) (string, bool) {
	if src.Dataset != "" {
		return func(string) (string, bool) { return src.Dataset, true }
	}
	return func(key string) (string, bool) {
		if s.Datasets != nil {
			if ds, ok := s.Datasets.ForKey(key); ok {
				return ds.Name, true
			}
		}
		s.Logger.Debug("skipping object no dataset claims by its key", "key", key, "prefix", src.Prefix)
		return "", false
	}
}

const scanChunk = 1000

func (s *Scanner) scan(ctx context.Context, prefix string, datasetOf func(key string) (string, bool)) (int, error) {
	found := 0
	var chunk []archive.ObjectInfo
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		keys := make([]string, len(chunk))
		for i, o := range chunk {
			keys[i] = o.Key
		}
		known, err := s.Store.KnownKeys(ctx, keys)
		if err != nil {
			return err
		}
		for _, o := range chunk {
			if known[o.Key] || isIgnored(o.Key) {
				continue
			}
			ds, ok := datasetOf(o.Key)
			if !ok {
				continue
			}
			if err := s.Queue.Publish(ctx, queue.Notification{Key: o.Key, Dataset: ds, Size: o.Size, Created: o.ModTime}); err != nil {
				return err
			}
			found++
		}
		chunk = chunk[:0]
		return nil
	}
	err := s.Archive.List(ctx, prefix, func(o archive.ObjectInfo) error {
		chunk = append(chunk, o)
		if len(chunk) >= scanChunk {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if err != nil {
		return found, fmt.Errorf("scan %s: %w", prefix, err)
	}
	return found, nil
}

// isIgnored skips objects that carry no log records: CloudTrail digest
// files, and temporary files of writers still at work.
func isIgnored(key string) bool {
	return strings.Contains(key, "/CloudTrail-Digest/") || strings.HasSuffix(key, ".tmp") ||
		strings.HasSuffix(key, "/")
}
