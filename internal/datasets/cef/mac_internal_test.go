package cef

import (
	"net"
	"strings"
	"testing"
)

// FuzzECSMAC48 holds the fast path for six-octet MACs to what
// net.ParseMAC and the formatting after it make of the same text.
func FuzzECSMAC48(f *testing.F) {
	for _, s := range []string{"00:50:56:aa:00:05", "00-50-56-AA-00-05", "00:50-56:aa:00:05", "0g:50:56:aa:00:05", "0050.56aa.0005", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ecsMAC48(s)
		if !ok {
			return // ecsMAC asks net.ParseMAC
		}
		hw, err := net.ParseMAC(s)
		if err != nil {
			t.Fatalf("ecsMAC48(%q) = %q, but ParseMAC refuses it: %v", s, got, err)
		}
		want := strings.ToUpper(strings.ReplaceAll(hw.String(), ":", "-"))
		if got != want {
			t.Fatalf("ecsMAC48(%q) = %q, want %q", s, got, want)
		}
	})
}
