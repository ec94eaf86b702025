package decimal

import (
	"strconv"
	"testing"
)

func TestParseInt(t *testing.T) {
	for _, s := range []string{
		"0", "7", "-7", "+7", "443", "0012", "-0", "+", "-", "", " 1", "1 ", "1_000", "0x10", "1.5", "٣",
		"999999999999999999", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
		"-9223372036854775809", "18446744073709551615", "18446744073709551616", "99999999999999999999999",
	} {
		checkAgainstStrconv(t, s)
	}
}

func checkAgainstStrconv(t *testing.T, s string) {
	t.Helper()
	want, err := strconv.ParseInt(s, 10, 64)
	got, ok := ParseInt(s)
	if ok != (err == nil) || (ok && got != want) {
		t.Fatalf("ParseInt(%q) = %d, %v; strconv: %d, %v", s, got, ok, want, err)
	}
}

// FuzzParseInt holds ParseInt to strconv.ParseInt(s, 10, 64).
func FuzzParseInt(f *testing.F) {
	for _, s := range []string{"0", "-12", "+3", "9223372036854775808", "-9223372036854775808", "1e3", ""} {
		f.Add(s)
	}
	f.Fuzz(checkAgainstStrconv)
}

func BenchmarkParseInt(b *testing.B) {
	for _, s := range []string{"443", "123456789"} {
		b.Run(s, func(b *testing.B) {
			for b.Loop() {
				ParseInt(s)
			}
		})
		b.Run("strconv/"+s, func(b *testing.B) {
			for b.Loop() {
				_, _ = strconv.ParseInt(s, 10, 64)
			}
		})
	}
}
