package bench

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// FuzzProbeIn: a probe found in a text is one whose host name the text
// holds.
func FuzzProbeIn(f *testing.F) {
	for _, s := range []string{"latency-probe-000012", "x latency-probe-004711, y", "latency-probe-0000123",
		"latency-probe-000001 latency-probe-000002", "latency-probe-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		seq, ok := probeIn(s)
		if ok && (seq < 0 || !strings.Contains(s, probeHost(seq))) {
			t.Fatalf("probeIn(%q) = %d, but the text does not hold %s", s, seq, probeHost(seq))
		}
		if !ok && seq != 0 {
			t.Fatalf("probeIn(%q) = %d, false", s, seq)
		}
	})
}

// FuzzPagerDutyRequest: whatever is posted, the stand-in answers as
// PagerDuty does (accepted or refused) and counts a probe only for a
// trigger that names it.
func FuzzPagerDutyRequest(f *testing.F) {
	for _, s := range []string{
		`{"routing_key":"k","event_action":"trigger","dedup_key":"d","payload":{"summary":"s latency-probe-000003","source":"h","severity":"info","custom_details":{"group_key":["latency-probe-000003","x"]}}}`,
		`{"routing_key":"k","event_action":"acknowledge","dedup_key":"d"}`,
		`{"routing_key":"k","event_action":"trigger","payload":{"summary":"s","source":"h","severity":"info","custom_details":{"group_key":"latency-probe-000001"}}}`,
		`{"event_action":"trigger"}`, `[]`, `null`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		pd := newPagerDuty(time.Now)
		pd.expect(3, time.Now())
		rec := httptest.NewRecorder()
		pd.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, pagerDutyPath, bytes.NewReader(body)))
		req, unmatched, invalid := pd.counts()
		switch rec.Code {
		case http.StatusAccepted:
			if req != 1 || invalid != 0 || !bytes.Contains(rec.Body.Bytes(), []byte(`"status":"success"`)) {
				t.Fatalf("accepted %q: requests %d invalid %d, body %s", body, req, invalid, rec.Body.Bytes())
			}
		case http.StatusBadRequest:
			if req != 0 || invalid != 1 || unmatched != 0 {
				t.Fatalf("refused %q: requests %d invalid %d unmatched %d", body, req, invalid, unmatched)
			}
		default:
			t.Fatalf("%q: status %d", body, rec.Code)
		}
		if lat, _ := pd.latencies(); len(lat) == 1 && !bytes.Contains(body, []byte(probeHost(3))) {
			t.Fatalf("%q counted probe 3 without naming it", body)
		}
	})
}
