package dataset

import (
	"testing"
	"unsafe"
)

func TestRecordTextIsMadeOnceAndOnlyWhenItMatches(t *testing.T) {
	r := Record{Data: []byte("<13>Nov 20 10:00:00 web-01 sshd[1]: hello")}
	if r.String() != string(r.Data) {
		t.Fatalf("String() = %q without Text, want the data", r.String())
	}
	w := r.WithText()
	if w.Text != string(r.Data) {
		t.Fatalf("WithText().Text = %q, want %q", w.Text, r.Data)
	}
	// The same string every time: parsers and event.original share it.
	if a, b := w.String(), w.String(); unsafe.StringData(a) != unsafe.StringData(w.Text) || unsafe.StringData(b) != unsafe.StringData(w.Text) {
		t.Fatal("String() copied the record's Text")
	}
	if unsafe.StringData(w.WithText().Text) != unsafe.StringData(w.Text) {
		t.Fatal("WithText() made a second copy of a record that had Text")
	}
	// A Text that is not Data's (a record changed after it was made) is not used.
	stale := Record{Data: []byte("new"), Text: "old data"}
	if stale.String() != "new" {
		t.Fatalf("String() = %q with a stale Text, want %q", stale.String(), "new")
	}
}
