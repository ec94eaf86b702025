package jsontree_test

import (
	"testing"

	"github.com/mamori-sec/mamori/internal/parse/jsontree"
)

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"already_snake":                "already_snake",
		"userPrincipalName":            "user_principal_name",
		"processingTimeInMilliseconds": "processing_time_in_milliseconds",
		"APK_SHA256_HASH":              "apk_sha256_hash",
		"OAUTH2_APP_ID":                "oauth2_app_id",
		"isMFAPassed":                  "is_mfa_passed",
		"riskEventTypes_v2":            "risk_event_types_v2",
		"User-Agent":                   "user_agent",
		"@odata.type":                  "odata_type",
		"sha256Hash":                   "sha256_hash",
		"a..b":                         "a_b",
		"":                             "_",
		"@@":                           "_",
		"日本":                           "_",
	} {
		if got := jsontree.SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}
