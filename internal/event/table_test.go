package event

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/netip"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"
	"unsafe"
)

// TestFieldTable sets, replaces and deletes many fields (growing the index
// several times) and checks every read against a map doing the same.
func TestFieldTable(t *testing.T) {
	for _, hint := range []int{0, 4, 1000} {
		var e *Event
		if hint == 0 {
			e = &Event{} // the zero value is usable
		} else {
			e = New(hint)
		}
		want := map[string]any{}
		for i := 0; i < 600; i++ {
			f := fmt.Sprintf("f.%d", i%400)
			switch {
			case i%7 == 3:
				e.Delete(f)
				delete(want, f)
			case i%5 == 0:
				e.SetString(f, fmt.Sprint("s", i))
				want[f] = fmt.Sprint("s", i)
			default:
				e.Set(f, int64(i))
				want[f] = int64(i)
			}
		}
		if e.Len() != len(want) {
			t.Fatalf("hint %d: Len %d, want %d", hint, e.Len(), len(want))
		}
		for i := 0; i < 400; i++ {
			f := fmt.Sprintf("f.%d", i)
			got, ok := e.Get(f)
			w, wok := want[f]
			if ok != wok || !reflect.DeepEqual(got, w) || e.Has(f) != wok {
				t.Fatalf("hint %d: %s = %#v %v, want %#v %v", hint, f, got, ok, w, wok)
			}
		}
		ranged := map[string]any{}
		e.Range(func(f string, v any) { ranged[f] = v })
		if !reflect.DeepEqual(ranged, want) {
			t.Fatalf("hint %d: Range gave %d fields, want %d", hint, len(ranged), len(want))
		}
		keys := e.Keys()
		wantKeys := make([]string, 0, len(want))
		for k := range want {
			wantKeys = append(wantKeys, k)
		}
		sort.Slice(wantKeys, func(i, j int) bool { return keyLess(wantKeys[i], wantKeys[j]) })
		if !reflect.DeepEqual(keys, wantKeys) {
			t.Fatalf("hint %d: Keys %v, want %v", hint, keys, wantKeys)
		}
	}
}

// TestDeleteThenSetAgain checks that a deleted field is absent everywhere
// and comes back with its new value.
func TestDeleteThenSetAgain(t *testing.T) {
	e := New(4)
	e.Set("a", "1")
	e.Set("b", "2")
	e.Delete("a")
	e.Delete("a")
	if e.Has("a") || e.Len() != 1 || e.String("a") != "" || !reflect.DeepEqual(e.Keys(), []string{"b"}) {
		t.Fatalf("deleted field still seen: len %d keys %v", e.Len(), e.Keys())
	}
	e.SetIfAbsent("a", "3")
	if e.String("a") != "3" || e.Len() != 2 {
		t.Fatalf("a = %q, len %d after setting it again", e.String("a"), e.Len())
	}
}

// TestAppendDoesNotWriteIntoStoredList checks that Append copies a list
// set by a caller instead of appending into its spare capacity.
func TestAppendDoesNotWriteIntoStoredList(t *testing.T) {
	backing := make([]string, 1, 4)
	backing[0] = "a"
	e := New(4)
	e.Set("tags", backing)
	e.Append("tags", "b", "a", "", "c")
	if got := e.Strings("tags"); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("tags = %v", got)
	}
	if spare := backing[:2]; spare[1] != "" {
		t.Fatalf("Append wrote %q into the caller's backing array", spare[1])
	}
}

// TestIDEncoding checks ID against the construction it documents, for a
// short key and one too long for the stack buffer.
func TestIDEncoding(t *testing.T) {
	for _, key := range []string{"raw/x.ndjson.zst", strings.Repeat("k", 300)} {
		for _, pos := range [][2]int64{{0, 0}, {5, 1}, {1 << 40, 3}, {-1, 7}} {
			h := sha256.New()
			h.Write([]byte(key))
			var buf [16]byte
			binary.BigEndian.PutUint64(buf[:8], uint64(pos[0]))
			binary.BigEndian.PutUint64(buf[8:], uint64(pos[1]))
			h.Write(buf[:])
			sum := h.Sum(nil)
			want := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
			if got := ID(key, pos[0], int(pos[1])); got != want {
				t.Errorf("ID(%d-byte key, %d, %d) = %s, want %s", len(key), pos[0], pos[1], got, want)
			}
		}
	}
}

func TestRelatedKind(t *testing.T) {
	cases := map[string]kind{
		"source.ip": kindIP, "ip": kindIP, "host.ips": kindIP, "a.b.c.ip": kindIP,
		"zip": kindNone, "source.ipx": kindNone, "source.port": kindNone,
		"host.name": kindHost, "observer.hostname": kindHost, "destination.domain": kindHost,
		"server.address": kindHost, "agent.hostname": kindHost,
		"rule.name": kindNone, "hostname": kindNone, "file.name": kindNone,
		"user.name": kindUser, "source.user.name": kindUser, "user.target.email": kindUser,
		"user_agent.name": kindNone, "user.email": kindUser, "email": kindNone,
		"file.hash.sha256": kindHash, "process.hash.md5": kindHash, "file.hash.imphash": kindHash,
		"file.hash.sha1": kindHash, "file.hash.sha224": kindHash, "file.hash.sha384": kindHash,
		"file.hash.sha512": kindHash, "file.hash.ssdeep": kindHash, "file.hash.tlsh": kindHash,
		"file.sha256": kindNone, "event.hash": kindNone,
		"": kindNone, ".": kindNone, "a.": kindNone, "verylongsegmentip": kindNone,
		"x.123456789ip": kindNone, "x.hostname": kindNone,
	}
	for k, want := range cases {
		if got := relatedKind(k); got != want {
			t.Errorf("relatedKind(%q) = %d, want %d", k, got, want)
		}
	}
}

// TestFillRelatedKeepsWhatIsThere checks FillRelated on related.* fields
// set before it: a scalar becomes a list, values are added once, sorted
// after the ones present, and the lists it builds do not share room (an
// append to one leaves the others as they are).
func TestFillRelatedKeepsWhatIsThere(t *testing.T) {
	e := New(8)
	e.Set(RelatedUser, "zed")
	e.Set(RelatedHosts, []any{"h1", int64(3)})
	e.Set(RelatedHash, []any{map[string]any{"a": "b"}}) // nothing to list: stays as it is
	e.Set("source.ip", "192.0.2.9")
	e.Set("destination.ip", "192.0.2.1")
	e.Set("host.ip", []string{"192.0.2.9", "", "::ffff:192.0.2.5"})
	e.Set("user.name", "bob")
	e.Set("source.user.name", "zed")
	e.Set("host.name", "web-01")
	e.FillRelated()
	check := func(field string, want []string) {
		t.Helper()
		v, _ := e.Get(field)
		if got, ok := v.([]string); !ok || !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %v", field, v, want)
		}
	}
	check(RelatedIP, []string{"192.0.2.1", "192.0.2.5", "192.0.2.9"})
	check(RelatedUser, []string{"zed", "bob"})
	check(RelatedHosts, []string{"h1", "3", "web-01"})
	if v, _ := e.Get(RelatedHash); !reflect.DeepEqual(v, []any{map[string]any{"a": "b"}}) {
		t.Errorf("related.hash = %#v, want it untouched", v)
	}
	ips := e.Strings(RelatedIP)
	_ = append(ips, "x")
	check(RelatedUser, []string{"zed", "bob"})
	check(RelatedHosts, []string{"h1", "3", "web-01"})
}

// TestFieldsBeyondTheIndex sets more fields than the index holds: the
// later ones are found through the overflow map, set again and deleted
// like the others.
func TestFieldsBeyondTheIndex(t *testing.T) {
	e := New(16)
	const n = maxIndexed + 1000
	for i := 0; i < n; i++ {
		e.Set(fmt.Sprintf("f.%d", i), int64(i))
	}
	for _, i := range []int{0, maxIndexed - 1, maxIndexed, n - 1} {
		f := fmt.Sprintf("f.%d", i)
		if v, ok := e.Get(f); !ok || v != int64(i) {
			t.Fatalf("%s = %v %v", f, v, ok)
		}
		e.Set(f, "again")
		if e.String(f) != "again" {
			t.Fatalf("%s not set again: %q", f, e.String(f))
		}
	}
	e.Delete(fmt.Sprintf("f.%d", n-1))
	if e.Has(fmt.Sprintf("f.%d", n-1)) || e.Len() != n-1 {
		t.Fatalf("delete beyond the index: has %v, len %d", e.Has(fmt.Sprintf("f.%d", n-1)), e.Len())
	}
	if e.Has("f.none") {
		t.Fatal("a field never set is found")
	}
}

func TestAddrText(t *testing.T) {
	for s, want := range map[string]string{
		"192.0.2.1": "192.0.2.1", "2001:db8::1": "2001:db8::1", "2001:DB8:0::1": "2001:db8::1",
		"::ffff:10.0.0.1": "10.0.0.1", "fe80::1%eth0": "fe80::1%eth0",
	} {
		a, err := netip.ParseAddr(s)
		if err != nil {
			t.Fatal(err)
		}
		got := AddrText(s, a)
		if got != want {
			t.Errorf("AddrText(%q) = %q, want %q", s, got, want)
		}
		if s == want && unsafe.StringData(got) != unsafe.StringData(s) {
			t.Errorf("AddrText(%q) built a new string for canonical text", s)
		}
	}
}

// FuzzParseAddr holds ParseAddr to netip.ParseAddr: its quick refusal of
// text with characters no address has must never refuse an address.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0", "web-01", "deadbeef", "", "1.2.3.04"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := netip.ParseAddr(s)
		got, ok := ParseAddr(s)
		if ok != (err == nil) || got != want {
			t.Fatalf("ParseAddr(%q) = %v %v; netip: %v %v", s, got, ok, want, err)
		}
	})
}

// TestTypedSettersAreSet checks SetInt, SetTime and SetStrings against Set
// over more values than a slab holds, across garbage collections.
func TestTypedSettersAreSet(t *testing.T) {
	a, b := New(4), New(4)
	jst := time.FixedZone("JST", 9*3600)
	for i := 0; i < 3*arenaSize+5; i++ {
		n := int64(i * 1000)
		tm := time.Date(2026, 1, 2, 3, 4, i%60, 0, jst)
		list := []string{fmt.Sprint("x", i), "y"}
		if i%3 == 0 {
			list = append(list, strings.Repeat("z", i))
		}
		a.SetInt(fmt.Sprint("n.", i), n)
		b.Set(fmt.Sprint("n.", i), n)
		a.SetTime(fmt.Sprint("t.", i), tm)
		b.Set(fmt.Sprint("t.", i), tm)
		a.SetStrings(fmt.Sprint("l.", i), list...)
		b.Set(fmt.Sprint("l.", i), append([]string(nil), list...))
		list[0] = "changed" // SetStrings kept a copy
		if i%10 == 0 {
			runtime.GC()
		}
	}
	runtime.GC()
	if a.Len() != b.Len() {
		t.Fatalf("%d fields, want %d", a.Len(), b.Len())
	}
	b.Range(func(f string, w any) {
		if got, _ := a.Get(f); !reflect.DeepEqual(got, w) {
			t.Fatalf("%s = %#v, want %#v", f, got, w)
		}
	})
	if got, _ := a.Get("t.1"); got.(time.Time).Location() != time.UTC {
		t.Errorf("SetTime kept the zone of %v", got)
	}
	a.SetTime("t.1", time.Time{})
	a.SetStrings("l.1")
	if a.Has("t.1") || a.Has("l.1") {
		t.Error("the zero time or no values did not delete the field")
	}
	l := a.Strings("l.2")
	_ = append(l, "more")
	if got := a.Strings("l.3"); got[0] != "x3" {
		t.Errorf("an append to one list wrote into the next: %v", got)
	}
}
