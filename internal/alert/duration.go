package alert

import "github.com/mamori-sec/mamori/internal/units"

// Duration is a time.Duration written, as everywhere in mamori's
// configuration, as a Go duration ("90s", "1h30m") or in days ("7d").
type Duration = units.Duration

// ParseDuration reads "7d", "12h", "1h30m" or "0".
func ParseDuration(s string) (Duration, error) { return units.ParseDuration(s) }
