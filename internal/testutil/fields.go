package testutil

import (
	"reflect"
	"testing"

	"github.com/mamori-sec/mamori/internal/event"
)

// CheckFields reports every field of want that ev does not hold with the
// same value (compared with reflect.DeepEqual, so types count: int64(22)
// is not 22). A nil in want means the field must be absent.
func CheckFields(t testing.TB, ev *event.Event, want map[string]any) {
	t.Helper()
	for f, w := range want {
		got, ok := ev.Get(f)
		if w == nil {
			if ok {
				t.Errorf("%s = %#v, want it absent", f, got)
			}
			continue
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s = %#v, want %#v", f, got, w)
		}
	}
}
