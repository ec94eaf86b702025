package trendmicro

import (
	"reflect"
	"strings"
	"testing"

	parsecef "github.com/mamori-sec/mamori/internal/parse/cef"
)

// TestVendorKeysLast checks the partition that keeps Trend Micro's own
// keys from the generic CEF mapping: both groups keep their record order.
func TestVendorKeysLast(t *testing.T) {
	keys := []string{"TrendMicroDsA", "src", "TrendMicroDs", "TrendMicroDsB", "dst", "act", "TrendMicroDsC"}
	exts := make([]parsecef.Extension, len(keys))
	for i, k := range keys {
		exts[i] = parsecef.Extension{Key: k, Value: k}
	}
	n := vendorKeysLast(exts)
	var got []string
	for _, e := range exts {
		got = append(got, e.Key)
	}
	want := []string{"src", "TrendMicroDs", "dst", "act", "TrendMicroDsA", "TrendMicroDsB", "TrendMicroDsC"}
	if n != 4 || !reflect.DeepEqual(got, want) {
		t.Fatalf("vendorKeysLast = %d, %v; want 4, %v", n, got, want)
	}
}

func TestVerdict(t *testing.T) {
	for act, want := range map[string]string{
		"Reset": "denied", "Deny": "denied", "IDS:Reset": "", "ids:drop": "", "Allow": "allowed",
		"Bypass": "allowed", "Log": "", "": "", "BLOC\u212A": "denied", // Kelvin sign: lower case is k
		strings.Repeat("x", 40) + "DROP": "denied",
	} {
		if got := verdict(act); got != want {
			t.Errorf("verdict(%q) = %q, want %q", act, got, want)
		}
	}
}
