package event

import (
	"time"
	"unsafe"
)

// Boxing a value into an interface copies it to a fresh heap object: a
// string's header (16 bytes), an int64 of 256 or more, a time.Time, a
// list's header. That is one allocation for almost every field of every
// event, the largest share of a parser's allocations. SetString, SetInt,
// SetTime and SetStrings avoid it by keeping the values of an event in
// slabs it owns, one for each type, and pointing the interfaces at them.
//
// An interface value is a type word and a data pointer (the runtime's
// eface); for these types the data pointer points to a value that is never
// written through. boxIn builds such a value whose data pointer is the
// address of a slab element. A slab is only appended to while it has
// capacity, and a full one is replaced rather than grown, so an element's
// address never changes and the garbage collector keeps the slab alive
// through the interior pointers. List elements live the same way in an
// arena of strings, each list capped at its length so that an append to
// one never writes into the next.

// eface is the layout of an interface value holding a non-pointer type.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// Slab sizes, in values: most events have fewer text fields than two
// string slabs, and a few numbers, times and lists.
const (
	slabSize     = 32
	intSlabSize  = 8
	timeSlabSize = 4
	listSlabSize = 4
	arenaSize    = 8
)

// Values boxed once, for their type words.
var (
	emptyString any = ""
	emptyInt    any = int64(0)
	emptyTime   any = time.Time{}
	emptyList   any = []string(nil)
)

// boxIn stores v in *slab (a new slab of n values when it is full) and
// returns an interface with typ's type word pointing at it.
func boxIn[T any](slab *[]T, n int, v T, typ any) any {
	if len(*slab) == cap(*slab) {
		*slab = make([]T, 0, n)
	}
	*slab = append(*slab, v)
	(*eface)(unsafe.Pointer(&typ)).data = unsafe.Pointer(&(*slab)[len(*slab)-1])
	return typ
}

// box returns s as an interface without a heap allocation per string.
func (e *Event) box(s string) any { return boxIn(&e.slab, slabSize, s, emptyString) }

// SetString is Set for a string value, without boxing it: parsers call it
// for the text fields they set in bulk. An empty s deletes the field, as
// Set does.
func (e *Event) SetString(field, s string) {
	if s == "" {
		e.Delete(field)
		return
	}
	e.put(field, e.box(s))
}

// SetInt is Set for an integer, without boxing it.
func (e *Event) SetInt(field string, n int64) {
	if uint64(n) < 256 {
		// The runtime boxes these without allocating.
		e.put(field, any(n))
		return
	}
	e.put(field, boxIn(&e.ints, intSlabSize, n, emptyInt))
}

// SetTime is Set for a time, without boxing it: the zero time deletes the
// field, and a time in another zone is stored in UTC, as Set does.
func (e *Event) SetTime(field string, t time.Time) {
	if t.IsZero() {
		e.Delete(field)
		return
	}
	if t.Location() != time.UTC {
		t = t.UTC()
	}
	e.put(field, boxIn(&e.times, timeSlabSize, t, emptyTime))
}

// SetStrings is Set for a list of strings: it stores a copy of values
// (the caller may reuse them), without allocating for each list. No
// values deletes the field, as Set does for an empty list.
func (e *Event) SetStrings(field string, values ...string) {
	if len(values) == 0 {
		e.Delete(field)
		return
	}
	e.put(field, e.boxList(e.arenaCopy(values)))
}

// arenaCopy copies values into the event's list arena and returns the
// copy, capped at its length.
func (e *Event) arenaCopy(values []string) []string {
	if cap(e.arena)-len(e.arena) < len(values) {
		e.arena = make([]string, 0, max(arenaSize, len(values)))
	}
	start := len(e.arena)
	e.arena = append(e.arena, values...)
	return e.arena[start:len(e.arena):len(e.arena)]
}

// boxList returns list as an interface without boxing its header; list
// must never be written to again.
func (e *Event) boxList(list []string) any {
	return boxIn(&e.lists, listSlabSize, list, emptyList)
}
