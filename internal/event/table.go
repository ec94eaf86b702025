package event

import (
	"encoding/binary"
	"math/bits"
	"math/rand/v2"
	"unsafe"
)

// An event's fields live in a slice with a small hash index beside it
// rather than in a Go map: parsers set tens of fields per event and
// FillRelated and the writers walk them all, and a map made each event pay
// for a large table (cleared on allocation), for its inserts and for its
// iterator. A slice is walked in place, and the index costs two bytes a
// slot.

// field is one field: its dotted name and its value (nil once deleted).
type field struct {
	name string
	v    any
}

// seed keys the index's hash: random per process, so that field names
// taken from a record (kv keys, CEF extensions, JSON members) cannot be
// chosen to collide.
var seed = rand.Uint64()

// hashName hashes a field name for the index. hash/maphash would do, but
// its calls cost more than the hashing of a short name. This one takes
// eight bytes at a time (the last eight overlapping the word before; a
// shorter name in two overlapping halves or three bytes), folds each word
// into the state with a step that is a bijection of the state (xor,
// multiply by an odd constant, rotate), starting from the secret seed, and
// ends with splitmix64's finalizer for well-spread low bits. Which names
// share index slots thus depends on the seed.
func hashName(s string) uint64 {
	const k = 0x9e3779b97f4a7c15
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	n := len(b)
	h := seed ^ uint64(n)*k
	switch {
	case n > 8:
		for i := 0; i < n-8; i += 8 {
			h = bits.RotateLeft64((h^binary.LittleEndian.Uint64(b[i:]))*k, 31)
		}
		h = (h ^ binary.LittleEndian.Uint64(b[n-8:])) * k
	case n == 8:
		h = (h ^ binary.LittleEndian.Uint64(b)) * k
	case n >= 4:
		h = (h ^ uint64(binary.LittleEndian.Uint32(b)) ^ uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32) * k
	case n > 0:
		h = (h ^ uint64(b[0]) ^ uint64(b[n/2])<<8 ^ uint64(b[n-1])<<16) * k
	}
	return mix(h)
}

// mix is splitmix64's finalizer.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// minIndex is the smallest index: room for 8 fields.
const minIndex = 16

// maxIndexed is how many fields the index can hold (its entries are
// uint16, to keep it small); the fields after them are found through
// Event.more, a map. No log record comes near it.
const maxIndexed = 1<<16 - 1

// reserve makes room for n more fields: neither the fields nor the index
// grow before they are set.
func (e *Event) reserve(n int) {
	if n < 8 {
		n = 8
	}
	e.growFields(n)
	if size := indexSize(len(e.fields) + n); size > len(e.index) {
		e.rehash(size)
	}
}

// growFields makes room in fields for n more, leaving the index as it is.
// put grows by half as much again, not append's double: New's hint is
// usually close, and a slot is 32 bytes.
func (e *Event) growFields(n int) {
	want := len(e.fields) + n
	if cap(e.fields) < want {
		fields := make([]field, len(e.fields), want)
		copy(fields, e.fields)
		e.fields = fields
	}
}

// indexSize is the power of two at least twice n (n at most maxIndexed),
// so that a probe meets an empty slot soon.
func indexSize(n int) int {
	n = min(n, maxIndexed)
	size := minIndex
	for size < 2*n {
		size <<= 1
	}
	return size
}

// rehash rebuilds the index with size slots.
func (e *Event) rehash(size int) {
	e.index = make([]uint16, size)
	mask := uint64(size - 1)
	for p := range e.fields[:min(len(e.fields), maxIndexed)] {
		i := hashName(e.fields[p].name) & mask
		for e.index[i] != 0 {
			i = (i + 1) & mask
		}
		e.index[i] = uint16(p + 1)
	}
}

// lookup returns the position of the field's slot in fields, or -1. The
// slot may hold a deleted field (nil value).
func (e *Event) lookup(name string) int {
	if len(e.index) == 0 {
		return -1
	}
	mask := uint64(len(e.index) - 1)
	i := hashName(name) & mask
	for {
		p := e.index[i]
		if p == 0 {
			break
		}
		if e.fields[p-1].name == name {
			return int(p - 1)
		}
		i = (i + 1) & mask
	}
	if e.more != nil {
		if p, ok := e.more[name]; ok {
			return int(p)
		}
	}
	return -1
}

// put stores a normalised, non-nil value under name. (Its probe is
// lookup's, written out again: this is the hottest path of every parser.)
func (e *Event) put(name string, v any) {
	if len(e.index) == 0 {
		e.rehash(minIndex)
	}
	mask := uint64(len(e.index) - 1)
	i := hashName(name) & mask
	for {
		p := e.index[i]
		if p == 0 {
			break
		}
		if f := &e.fields[p-1]; f.name == name {
			e.set(f, v)
			return
		}
		i = (i + 1) & mask
	}
	if e.more != nil {
		if p, ok := e.more[name]; ok {
			e.set(&e.fields[p], v)
			return
		}
	}
	if len(e.fields) == cap(e.fields) {
		e.growFields(len(e.fields)/2 + 8)
	}
	e.fields = append(e.fields, field{name: name, v: v})
	e.live++
	n := len(e.fields)
	switch {
	case n > maxIndexed:
		if e.more == nil {
			e.more = make(map[string]int32)
		}
		e.more[name] = int32(n - 1)
	case 2*n > len(e.index):
		e.rehash(indexSize(n + n/2))
	default:
		e.index[i] = uint16(n)
	}
}

// set gives an existing slot a value.
func (e *Event) set(f *field, v any) {
	if f.v == nil {
		e.live++
	}
	f.v = v
}
