package config

import "github.com/mamori-sec/mamori/internal/units"

// Duration and ByteSize are the configuration's units (internal/units):
// "90d", "1h30m"; "64MiB", "1MB".
type (
	Duration = units.Duration
	ByteSize = units.ByteSize
)

// ParseDuration reads "90d", "12h", "1h30m", or "0".
func ParseDuration(s string) (Duration, error) { return units.ParseDuration(s) }

// ParseByteSize reads "64KiB", "1MB", "1048576".
func ParseByteSize(s string) (ByteSize, error) { return units.ParseByteSize(s) }
