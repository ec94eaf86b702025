package poll

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/collect"
	"github.com/mamori-sec/mamori/internal/collect/collecttest"
	"github.com/mamori-sec/mamori/internal/intake"
)

func TestTokenCache(t *testing.T) {
	clock := collecttest.NewClock(t0)
	var fetches int
	life := time.Hour
	var fetchErr error
	c := NewTokenCache(clock.Now, func(context.Context) (Token, error) {
		if fetchErr != nil {
			return Token{}, fetchErr
		}
		fetches++
		exp := time.Time{}
		if life > 0 {
			exp = clock.Now().Add(life)
		}
		return Token{Value: fmt.Sprintf("t%d", fetches), Expiry: exp}, nil
	})
	ctx := context.Background()
	get := func() string {
		t.Helper()
		v, err := c.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if first, second := get(), get(); first != "t1" || second != "t1" || fetches != 1 {
		t.Fatalf("tokens %s, %s after %d fetches; want t1 fetched once", first, second, fetches)
	}
	clock.Advance(58 * time.Minute)
	if get() != "t1" {
		t.Error("token replaced more than a minute before expiry")
	}
	clock.Advance(time.Minute + time.Second)
	if get() != "t2" {
		t.Error("token not replaced within a minute of expiry")
	}
	c.Invalidate("t1") // not the current one: no effect
	if get() != "t2" {
		t.Error("invalidating an old token dropped the current one")
	}
	c.Invalidate("t2")
	if get() != "t3" {
		t.Error("invalidated token still used")
	}

	// A short life is refreshed halfway.
	life = 40 * time.Second
	c.Invalidate("t3")
	if get() != "t4" {
		t.Fatal("no new token")
	}
	clock.Advance(19 * time.Second)
	if get() != "t4" {
		t.Error("short-lived token replaced before half its life")
	}
	clock.Advance(2 * time.Second)
	if get() != "t5" {
		t.Error("short-lived token kept past half its life")
	}

	// No expiry: kept until refused.
	life = 0
	c.Invalidate("t5")
	get()
	clock.Advance(24 * time.Hour)
	if get() != "t6" {
		t.Error("token without expiry not kept")
	}

	fetchErr = errors.New("token endpoint down")
	c.Invalidate("t6")
	if _, err := c.Token(ctx); !errors.Is(err, fetchErr) {
		t.Errorf("error %v", err)
	}
}

func TestCursorPlan(t *testing.T) {
	p := Policy{Lag: 10 * time.Minute, MaxWindow: time.Hour, Lookback: 3 * time.Hour}
	now := t0.Add(1500 * time.Millisecond)
	var c Cursor
	w, ok := c.Plan(now, p)
	// A new cursor starts 3h before now-lag; windows are whole seconds
	// (now-lag is 11:50:01.5).
	sec := time.Second
	if !ok || !w.Start.Equal(t0.Add(-190*time.Minute+sec)) || !w.End.Equal(t0.Add(-130*time.Minute+sec)) {
		t.Fatalf("first window %v %v", w, ok)
	}
	if c.Open == nil || *c.Open != w {
		t.Fatal("window not opened")
	}
	// An open window comes back as it is, whatever the time.
	if w2, ok := c.Plan(now.Add(5*time.Hour), p); !ok || w2 != w {
		t.Errorf("open window re-planned as %v", w2)
	}
	c.Close()
	if c.Open != nil || !c.Next.Equal(w.End) {
		t.Fatalf("closed cursor %+v", c)
	}
	var ends []time.Time
	for {
		w, ok := c.Plan(now, p)
		if !ok {
			break
		}
		ends = append(ends, w.End)
		c.Close()
	}
	want := []time.Time{t0.Add(-70*time.Minute + sec), t0.Add(-10*time.Minute + sec)}
	if fmt.Sprint(ends) != fmt.Sprint(want) {
		t.Errorf("catch-up window ends %v, want %v", ends, want)
	}
	// Less than a second since: nothing due.
	if _, ok := c.Plan(now.Add(400*time.Millisecond), p); ok {
		t.Error("sub-second window planned")
	}
	if got := w.String(); got != "20240501T085001Z-20240501T095001Z" {
		t.Errorf("window string %s", got)
	}
	if got := PageID("gw", "login", Window{Start: t0, End: t0.Add(time.Hour)}, 3); got != "gw/login/20240501T120000Z-20240501T130000Z/3" {
		t.Errorf("PageID %s", got)
	}
}

func testEnv(t *testing.T, sink intake.Sink, clock *collecttest.Clock) collect.Env {
	t.Helper()
	env, err := collecttest.Env(t, sink, clock).WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// pagesOf serves pages of n items each, count pages per window.
func pagesOf(count int, fail func(w Window, page int) error) func(ctx context.Context, w Window, next string) (Page, error) {
	return func(_ context.Context, w Window, next string) (Page, error) {
		i := 0
		if next != "" {
			fmt.Sscanf(next, "p%d", &i)
		}
		if fail != nil {
			if err := fail(w, i); err != nil {
				return Page{}, err
			}
		}
		p := Page{Body: []byte(fmt.Sprintf(`{"window":%q,"page":%d}`, w, i)), Items: 1}
		if i+1 < count {
			p.Next = fmt.Sprintf("p%d", i+1)
		}
		return p, nil
	}
}

func TestWindowsOneStreamFailingLeavesOthers(t *testing.T) {
	clock := collecttest.NewClock(t0)
	sink := &collecttest.Sink{}
	env := testEnv(t, sink, clock)
	policy := Policy{Lag: time.Minute, MaxWindow: time.Hour, Lookback: time.Hour}
	broken := errors.New("boom")
	w, err := NewWindows("test", "poll-test", env, []Stream{
		{Key: "bad", Dataset: "x.bad", Policy: policy, Fetch: pagesOf(2, func(Window, int) error { return broken })},
		{Key: "good", Dataset: "x.good", Policy: policy, Fetch: pagesOf(2, nil)},
	})
	if err != nil {
		t.Fatal(err)
	}
	err = w.Poll(context.Background())
	if !errors.Is(err, broken) || !strings.Contains(err.Error(), "test bad: window") {
		t.Fatalf("error %v", err)
	}
	if n := len(sink.Batches()); n != 2 {
		t.Errorf("%d batches, want the good stream's 2", n)
	}
	if w.Cursor("bad").Open == nil || w.Cursor("good").Open != nil {
		t.Errorf("cursors bad %+v good %+v", w.Cursor("bad"), w.Cursor("good"))
	}
	// The state file holds both.
	b, err := os.ReadFile(filepath.Join(env.StateDir, "test.json"))
	if err != nil || !strings.Contains(string(b), `"bad"`) || !strings.Contains(string(b), `"good"`) {
		t.Errorf("state file %s, %v", b, err)
	}
}

func TestWindowsStopsOnRepeatedContinuation(t *testing.T) {
	clock := collecttest.NewClock(t0)
	env := testEnv(t, &collecttest.Sink{}, clock)
	w, err := NewWindows("loop", "poll-loop", env, []Stream{{
		Key: "s", Dataset: "x.s", Policy: Policy{Lag: time.Minute, Lookback: time.Hour},
		Fetch: func(context.Context, Window, string) (Page, error) {
			return Page{Body: []byte("{}"), Items: 1, Next: "same"}, nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Poll(context.Background()); err == nil || !strings.Contains(err.Error(), "continuation it returned before") {
		t.Fatalf("error %v", err)
	}
}

func TestWindowsSkipsEmptyPages(t *testing.T) {
	clock := collecttest.NewClock(t0)
	sink := &collecttest.Sink{}
	env := testEnv(t, sink, clock)
	w, err := NewWindows("empty", "poll-empty", env, []Stream{{
		Key: "s", Dataset: "x.s", Policy: Policy{Lag: time.Minute, Lookback: time.Hour},
		Fetch: func(_ context.Context, _ Window, next string) (Page, error) {
			if next == "" {
				return Page{Body: []byte(`{"items":[]}`), Next: "2"}, nil
			}
			return Page{Body: []byte(`{"items":[1]}`), Items: 1}, nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	bs := sink.Batches()
	if len(bs) != 1 || string(bs[0].Records[0].Data) != `{"items":[1]}` || !strings.HasSuffix(bs[0].ID, "/1") {
		t.Errorf("batches %+v, want only page 1", bs)
	}
}

func TestWriteBatchWaitsWhileBusy(t *testing.T) {
	clock := collecttest.NewClock(t0)
	busy := 2
	sink := &collecttest.Sink{Hook: func(int, intake.Batch) error {
		if busy > 0 {
			busy--
			return fmt.Errorf("archive: %w", intake.ErrBusy)
		}
		return nil
	}}
	env := testEnv(t, sink, clock)
	b := intake.Batch{Dataset: "x", ID: "b", Records: []intake.Record{{Data: []byte("r")}}}
	if err := WriteBatch(context.Background(), env, b); err != nil {
		t.Fatal(err)
	}
	if got := clock.Sleeps(); fmt.Sprint(got) != "[100ms 200ms]" {
		t.Errorf("sleeps %v", got)
	}
	other := errors.New("disk full")
	sink.Hook = func(int, intake.Batch) error { return other }
	if err := WriteBatch(context.Background(), env, b); !errors.Is(err, other) {
		t.Errorf("error %v", err)
	}
}

func TestRunPollsEveryIntervalUntilDone(t *testing.T) {
	clock := collecttest.NewClock(t0)
	env := testEnv(t, &collecttest.Sink{}, clock)
	ctx, cancel := context.WithCancel(context.Background())
	var polls []time.Time
	err := Run(ctx, env, "test", 5*time.Minute, func(context.Context) error {
		polls = append(polls, clock.Now())
		clock.Advance(time.Minute) // the poll takes a minute
		if len(polls) == 4 {
			cancel()
		}
		if len(polls) == 2 {
			return errors.New("transient")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run returned %v, want nil once ctx is done", err)
	}
	want := []time.Time{t0, t0.Add(5 * time.Minute), t0.Add(10 * time.Minute), t0.Add(15 * time.Minute)}
	if fmt.Sprint(polls) != fmt.Sprint(want) {
		t.Errorf("polls at %v, want %v", polls, want)
	}
	if got := clock.Sleeps(); fmt.Sprint(got) != "[4m0s 4m0s 4m0s]" {
		t.Errorf("sleeps %v", got)
	}
}

func TestNewWindowsRejectsCorruptState(t *testing.T) {
	clock := collecttest.NewClock(t0)
	env := testEnv(t, &collecttest.Sink{}, clock)
	if err := os.WriteFile(filepath.Join(env.StateDir, "c.json"), []byte("{\"streams\": {\"s\": 7}}"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := NewWindows("c", "poll-c", env, nil)
	if err == nil || !strings.Contains(err.Error(), "corrupt") {
		t.Fatalf("error %v", err)
	}
}
