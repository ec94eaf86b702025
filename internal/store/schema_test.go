package store

import "testing"

func TestColumnFinderFindsEveryColumnAndNothingElse(t *testing.T) {
	f := newColumnFinder()
	for i, c := range Columns {
		if got := f.find(c.Field); got != i {
			t.Errorf("find(%q) = %d, want %d", c.Field, got, i)
		}
	}
	for _, name := range []string{"", "s", "source", "source.ip4", "source.i", "ource.ip", "Source.ip", "source.address",
		"destination.mac", "event.id", "event.original", "related.hash", "@timestamp.x", "message", "cef.extensions.sourceAddress",
		"trendmicro.deepsecurity.event_class", "host.hostname", "user.id", "process.pid"} {
		if got := f.find(name); got != -1 {
			t.Errorf("find(%q) = %d (%s), want -1", name, got, Columns[got].Field)
		}
	}
}
