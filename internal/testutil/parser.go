package testutil

import (
	"bytes"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/event"
)

// RenderEvents parses every line of input with p, received at the given
// time, and writes one NDJSON document per event, or a document holding
// only error.message for a line that fails: the golden files' format.
func RenderEvents(t testing.TB, p dataset.Parser, input []byte, received time.Time) []byte {
	t.Helper()
	var out bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimRight(input, "\n"), []byte("\n")) {
		evs, err := p.Parse(dataset.Record{Data: line, Received: received})
		if err != nil {
			evs = []*event.Event{event.New(1)}
			evs[0].Set(event.FieldError, err.Error())
		}
		for _, ev := range evs {
			b, err := ev.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			out.Write(b)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// RunParserCases runs the golden cases under dir through p (see RunCases).
func RunParserCases(t *testing.T, dir string, p dataset.Parser, received time.Time) {
	t.Helper()
	RunCases(t, dir, func(t *testing.T, input []byte) []byte { return RenderEvents(t, p, input, received) })
}
