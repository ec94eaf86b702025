package searchtest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

var t0 = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func TestRecords(t *testing.T) {
	recs := Records([]string{"a", "b", "c"}, t0, time.Minute, "192.0.2.1:514")
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	for i, r := range recs {
		if want := t0.Add(time.Duration(i) * time.Minute); string(r.Data) != string(rune('a'+i)) || !r.Received.Equal(want) || r.Peer != "192.0.2.1:514" {
			t.Errorf("record %d: %q at %v from %q", i, r.Data, r.Received, r.Peer)
		}
	}
}

func TestSSHDLines(t *testing.T) {
	lines := SSHDLines()
	alice := 0
	for _, l := range lines {
		if strings.Contains(l, "for alice ") {
			alice++
		}
	}
	if len(lines) != 40 || alice != 4 || !strings.HasPrefix(lines[39], "<38>Nov 20 00:39:00 web-03 sshd[139]: ") {
		t.Errorf("%d lines, %d of alice, last %q", len(lines), alice, lines[len(lines)-1])
	}
}

// Load processes every record of every object, each object in its
// dataset, and leaves them finished.
func TestLoad(t *testing.T) {
	var seen []string
	words := dataset.Dataset{Name: "words", Parser: dataset.ParserFunc(func(rec dataset.Record) ([]*event.Event, error) {
		seen = append(seen, string(rec.Data))
		ev := event.New(1)
		ev.Set("message", string(rec.Data))
		return []*event.Event{ev}, nil
	})}
	st := Load(t, Options{Datasets: dataset.NewRegistry(words), Created: t0, Now: t0.Add(time.Hour), BatchRecords: 2, BlockRecords: 1},
		Object{Key: "raw/words/a", Dataset: "words", Records: Records([]string{"a1", "a2", "a3"}, t0, time.Second, "")},
		Object{Key: "raw/words/b", Dataset: "words", Records: Records([]string{"b1"}, t0, 0, "")})
	for key, n := range map[string]int64{"raw/words/a": 3, "raw/words/b": 1} {
		obj, found, err := st.GetObject(context.Background(), key)
		if err != nil || !found {
			t.Fatalf("%s: found %v, %v", key, found, err)
		}
		if obj.Dataset != "words" || !obj.Finished || obj.DoneRecords != n {
			t.Errorf("%s: %+v; want words, finished, %d records done", key, obj, n)
		}
	}
	if got := strings.Join(seen, " "); got != "a1 a2 a3 b1" {
		t.Errorf("parsed %q", got)
	}
}
