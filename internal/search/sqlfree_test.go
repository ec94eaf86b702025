package search

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/search/searchtest"
)

// mixedLines are sshd lines (two events' worth of fields) and others, with
// records that yield events out of time order (a line's own timestamp
// goes back and forth), so that positions from re-derived events must be
// sorted to come out as the store would give them.
func mixedLines() []string {
	var lines []string
	for i := 0; i < 60; i++ {
		min := (i * 7) % 60
		switch i % 3 {
		case 0:
			lines = append(lines, fmt.Sprintf("<38>Nov 20 00:%02d:%02d web-%02d sshd[%d]: Failed password for bob from 198.51.100.%d port 22", min, i%60, i%4, i, i))
		case 1:
			lines = append(lines, fmt.Sprintf("<38>Nov 20 00:%02d:%02d web-%02d app[%d]: password reset sent to user%d", min, i%60, i%4, i, i))
		default:
			lines = append(lines, fmt.Sprintf("<38>Nov 20 00:%02d:%02d web-%02d cron[%d]: passwords rotated", min, i%60, i%4, i))
		}
	}
	return lines
}

func ids(evs []*event.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.String(event.FieldID))
	}
	return out
}

// pages runs a search to its end through cursors and returns every
// event's id in order, with the first page's total.
func pages(t *testing.T, s *Searcher, r Request) ([]string, int64) {
	t.Helper()
	var all []string
	var total int64 = -2
	for {
		res, err := s.Search(context.Background(), r)
		if err != nil {
			t.Fatalf("%q: %v", r.Query, err)
		}
		if total == -2 {
			total = res.Total
		}
		all = append(all, ids(res.Events)...)
		if res.Next == "" {
			return all, total
		}
		r.Cursor = res.Next
	}
}

// TestKeywordWithoutSQLAgreesWithSQL: a bare keyword's candidates are
// re-derived without asking the events table for their positions; the
// results, their order, paging and time ranges must be those of the same
// query answered through the table (a clause on a column, true of every
// event, makes it take that path).
func TestKeywordWithoutSQLAgreesWithSQL(t *testing.T) {
	s := fixture(t, mixedLines())
	through := " AND _exists_:event.dataset"
	for _, q := range []string{"password", "bob", "passwords OR reset", "pass*", "web-02"} {
		for _, r := range []Request{
			{Limit: 4, Count: true},
			{Limit: 5, Asc: true, Count: true},
			{Limit: 3, From: t0.Add(10 * time.Minute), To: t0.Add(40*time.Minute + 30*time.Second)},
			{Limit: 100, From: t0.Add(17*time.Minute + 10*time.Second), Asc: true},
		} {
			r.Query = q
			got, gotTotal := pages(t, s, r)
			r.Query = q + through
			want, wantTotal := pages(t, s, r)
			if len(want) == 0 {
				t.Fatalf("%q %+v: no events through the table either; the test needs some", q, r)
			}
			if !slices.Equal(got, want) || gotTotal != wantTotal {
				t.Errorf("%q from %v to %v asc %v: without SQL %d events (total %d), through the table %d (total %d)\n%v\n%v",
					q, r.From, r.To, r.Asc, len(got), gotTotal, len(want), wantTotal, got, want)
			}
		}
	}
}

// TestTrimmedBlockShowsNoDeletedEvents: once retention has deleted some
// of a block's events, a keyword search must not re-derive them from the
// block's records.
func TestTrimmedBlockShowsNoDeletedEvents(t *testing.T) {
	lines := searchtest.SSHDLines() // a minute apart from t0
	s := fixture(t, lines)
	ctx := context.Background()
	cutoff := t0.Add(22*time.Minute + 30*time.Second)           // inside the block of lines 21 to 23
	n, err := s.Store.DeleteBefore(ctx, "linux.syslog", cutoff) // sshd lines' dataset
	if err != nil || n == 0 {
		t.Fatalf("DeleteBefore = %d, %v", n, err)
	}
	res, err := s.Search(ctx, Request{Query: "password", Limit: 100, Count: true})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(res.Events)) != res.Total || len(res.Events) != len(lines)-int(n) {
		t.Errorf("after deleting %d of %d: %d events, total %d", n, len(lines), len(res.Events), res.Total)
	}
	for _, e := range res.Events {
		if e.Time().Before(cutoff) {
			t.Errorf("deleted event came back: %s", strings.TrimSpace(e.String(event.FieldOriginal)))
		}
	}
}
