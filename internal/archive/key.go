package archive

import (
	"crypto/rand"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/oklog/ulid/v2"
)

// RawPrefix is the prefix under which mamori writes the objects it receives.
const RawPrefix = "raw/"

// objectSuffix ends every object mamori writes: zstd-compressed NDJSON.
const objectSuffix = ".ndjson.zst"

// maxDatasetLen bounds dataset names used in keys; S3 keys are limited to
// 1024 bytes and a name this long is surely a mistake.
const maxDatasetLen = 128

// ValidateDataset reports whether name can be used as the dataset segment of
// an archive key: one or more of [a-z0-9_.-], starting with a letter or digit
// (so that "." and ".." and hidden names are impossible), at most 128 bytes.
func ValidateDataset(name string) error {
	if name == "" {
		return fmt.Errorf("invalid dataset name %q: empty", name)
	}
	if len(name) > maxDatasetLen {
		return fmt.Errorf("invalid dataset name %q: longer than %d bytes", name, maxDatasetLen)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '_' || c == '.' || c == '-') && i > 0:
		default:
			return fmt.Errorf("invalid dataset name %q: byte %d (%q) is not allowed; use [a-z0-9_.-], starting with a letter or digit", name, i, c)
		}
	}
	return nil
}

// DatasetPrefix is the prefix of every object of one dataset:
// "raw/{dataset}/".
func DatasetPrefix(dataset string) string {
	return RawPrefix + dataset + "/"
}

// hourLayout is the time path of a key: the UTC hour.
const hourLayout = "2006/01/02/15"

// HourPrefix is the prefix of every object of one dataset received in the
// UTC hour of t: "raw/{dataset}/{yyyy}/{mm}/{dd}/{hh}/". Keys sort by it.
func HourPrefix(dataset string, t time.Time) string {
	return DatasetPrefix(dataset) + t.UTC().Format(hourLayout) + "/"
}

// Key builds the key of an object mamori writes:
//
//	raw/{dataset}/{yyyy}/{mm}/{dd}/{hh}/{ulid}.ndjson.zst
//
// The time path is the batch's receive time in UTC. The dataset must be
// valid (see ValidateDataset).
func Key(dataset string, received time.Time, id ulid.ULID) string {
	t := received.UTC()
	var b strings.Builder
	b.Grow(len(RawPrefix) + len(dataset) + 15 + 26 + len(objectSuffix) + 1)
	b.WriteString(RawPrefix)
	b.WriteString(dataset)
	b.WriteByte('/')
	b.WriteString(t.Format(hourLayout))
	b.WriteByte('/')
	b.WriteString(id.String())
	b.WriteString(objectSuffix)
	return b.String()
}

// KeyInfo is what an archive key says about its object.
type KeyInfo struct {
	Dataset string
	// Hour is the start of the UTC hour of the key's time path.
	Hour time.Time
	// ID is the object's ULID; ID.Timestamp() is when the object was made.
	ID ulid.ULID
}

// ParseKey parses a key written by Put. It fails for any other key, which
// is how the reader tells mamori's own objects from objects written by
// others.
func ParseKey(key string) (KeyInfo, error) {
	rest, ok := strings.CutPrefix(key, RawPrefix)
	if !ok {
		return KeyInfo{}, fmt.Errorf("parse key %q: not under %s", key, RawPrefix)
	}
	parts := strings.Split(rest, "/")
	if len(parts) != 6 {
		return KeyInfo{}, fmt.Errorf("parse key %q: want raw/{dataset}/{yyyy}/{mm}/{dd}/{hh}/{ulid}%s", key, objectSuffix)
	}
	ds := parts[0]
	if err := ValidateDataset(ds); err != nil {
		return KeyInfo{}, fmt.Errorf("parse key %q: %w", key, err)
	}
	hour, err := parseHourPath(parts[1:5])
	if err != nil {
		return KeyInfo{}, fmt.Errorf("parse key %q: %w", key, err)
	}
	name, ok := strings.CutSuffix(parts[5], objectSuffix)
	if !ok {
		return KeyInfo{}, fmt.Errorf("parse key %q: name does not end in %s", key, objectSuffix)
	}
	id, err := ulid.ParseStrict(name)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("parse key %q: object name: %w", key, err)
	}
	return KeyInfo{Dataset: ds, Hour: hour, ID: id}, nil
}

// parseHourPath parses ["yyyy","mm","dd","hh"] into the start of that hour.
// Only canonical, zero-padded, in-range values are accepted, so that each
// hour has exactly one spelling.
func parseHourPath(p []string) (time.Time, error) {
	var v [timeDepth]int
	for i, s := range p {
		n, err := parseFixed(s, levelWidth(i))
		if err != nil {
			return time.Time{}, fmt.Errorf("time path %s: %w", strings.Join(p, "/"), err)
		}
		v[i] = n
	}
	t := time.Date(v[0], time.Month(v[1]), v[2], v[3], 0, 0, 0, time.UTC)
	if t.Year() != v[0] || int(t.Month()) != v[1] || t.Day() != v[2] || t.Hour() != v[3] {
		return time.Time{}, fmt.Errorf("time path %s: not a valid UTC hour", strings.Join(p, "/"))
	}
	return t, nil
}

// parseFixed parses exactly width decimal digits.
func parseFixed(s string, width int) (int, error) {
	if len(s) != width {
		return 0, fmt.Errorf("%q is not %d digits", s, width)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("%q is not %d digits", s, width)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", s, err)
	}
	return n, nil
}

// newEntropy returns a monotonic ULID entropy source, safe for concurrent
// use, reading randomness from r (crypto/rand when nil). Monotonic entropy
// makes ULIDs made in the same millisecond by one Archive sort in the order
// they were made.
func newEntropy(r io.Reader) *ulid.LockedMonotonicReader {
	if r == nil {
		r = rand.Reader
	}
	return &ulid.LockedMonotonicReader{MonotonicReader: ulid.Monotonic(r, 0)}
}
