package event

import "unsafe"

// Boxing a string into an interface copies its header (pointer and length)
// to a fresh 16-byte heap object: one allocation for every text field of
// every event, the largest share of a parser's allocations. SetString
// avoids it by keeping the headers of an event's strings in slabs it owns
// and pointing the interfaces at them.
//
// An interface value is a type word and a data pointer (the runtime's
// eface); for a string the data pointer points to a string header that is
// never written through. box builds such a value whose data pointer is the
// address of a slab element. A slab is only appended to while it has
// capacity, and a full one is replaced rather than grown, so an element's
// address never changes and the garbage collector keeps the slab alive
// through the interior pointers.

// eface is the layout of an interface value holding a non-pointer type.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// slabSize is the number of string headers a slab holds: most events have
// fewer text fields than two slabs.
const slabSize = 32

// emptyString is a string boxed once, for its type word.
var emptyString any = ""

// box returns s as an interface without a heap allocation per string.
func (e *Event) box(s string) any {
	if len(e.slab) == cap(e.slab) {
		e.slab = make([]string, 0, slabSize)
	}
	e.slab = append(e.slab, s)
	v := emptyString
	(*eface)(unsafe.Pointer(&v)).data = unsafe.Pointer(&e.slab[len(e.slab)-1])
	return v
}

// SetString is Set for a string value, without boxing it: parsers call it
// for the text fields they set in bulk. An empty s deletes the field, as
// Set does.
func (e *Event) SetString(field, s string) {
	if s == "" {
		delete(e.m, field)
		return
	}
	e.m[field] = e.box(s)
}
