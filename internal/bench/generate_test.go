package bench

import (
	"bytes"
	"crypto/sha256"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mamori-sec/mamori/internal/dataset"
	"github.com/mamori-sec/mamori/internal/datasets"
	"github.com/mamori-sec/mamori/internal/event"
	"github.com/mamori-sec/mamori/internal/pipeline"
)

var testEnd = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testConfig(events int64, seed uint64) GenConfig {
	return GenConfig{Events: events, Days: 30, End: testEnd, Seed: seed, Mix: DefaultMix, Needles: DefaultNeedles}
}

// digest generates every event of cfg and hashes kinds and lines.
func digest(t *testing.T, cfg GenConfig) [32]byte {
	t.Helper()
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	var line []byte
	for {
		kind, l, ok := g.Next(line[:0])
		if !ok {
			break
		}
		line = l
		h.Write([]byte{byte(kind)})
		h.Write(line)
		h.Write([]byte{'\n'})
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

func TestGeneratorIsDeterministic(t *testing.T) {
	a := digest(t, testConfig(5000, 7))
	if b := digest(t, testConfig(5000, 7)); a != b {
		t.Error("the same seed gave different events")
	}
	if c := digest(t, testConfig(5000, 8)); a == c {
		t.Error("different seeds gave the same events")
	}
}

// TestGeneratedEventsParse runs every generated line through the dataset the
// server would use (syslog for what comes over syslog TCP, json for HTTP)
// and checks that it parses into the expected event.
func TestGeneratedEventsParse(t *testing.T) {
	const events = 20000
	cfg := testConfig(events, 42)
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	reg := datasets.Builtin(datasets.Options{Location: time.UTC})
	syslogDS, _ := reg.Lookup("syslog")
	jsonDS, _ := reg.Lookup("json")
	step := 30 * 24 * time.Hour / events
	needleIP, needleUser := cfg.Needles.IP, cfg.Needles.User

	var (
		line       []byte
		counts     [numKinds]int
		sizes      [numKinds]int
		foundIP    = map[string]int{}
		foundUser  int
		cefDataset int
	)
	for i := int64(0); ; i++ {
		kind, l, ok := g.Next(line[:0])
		if !ok {
			break
		}
		line = l
		counts[kind]++
		sizes[kind] += len(line)
		ds := syslogDS
		if kind == KindJSON {
			ds = jsonDS
		}
		evs, failed := pipeline.Normalize(ds, dataset.Record{Data: line, Received: testEnd}, "bench/test", i, testEnd)
		if failed || len(evs) != 1 {
			t.Fatalf("line %d (%s) gave %d events, failed=%v: %s", i, kind, len(evs), failed, line)
		}
		ev := evs[0]
		if msg := ev.String(event.FieldError); msg != "" {
			t.Fatalf("line %d (%s): error.message %q: %s", i, kind, msg, line)
		}
		want := cfg.End.Add(-30 * 24 * time.Hour).Add(time.Duration(i) * step)
		if d := ev.Time().Sub(want); d > 0 || d <= -time.Second {
			t.Fatalf("line %d (%s): @timestamp %v, want %v (to the second): %s", i, kind, ev.Time(), want, line)
		}
		switch kind {
		case KindCEF:
			// The generated CEF is Deep Security's, which its dataset claims.
			if ev.String(event.FieldDataset) == "trendmicro.deepsecurity" {
				cefDataset++
			}
			if ev.String("host.name") == "" {
				t.Errorf("line %d: CEF event without host.name: %s", i, line)
			}
		case KindSyslog:
			if ev.String("process.name") == "" || ev.String("host.name") == "" {
				t.Errorf("line %d: syslog event without process.name or host.name: %s", i, line)
			}
		case KindJSON:
			if ev.String("eventName") == "" || ev.String("userIdentity.type") == "" {
				t.Errorf("line %d: JSON record without eventName or userIdentity.type: %s", i, line)
			}
		}
		if ev.String("source.ip") == needleIP {
			foundIP[kind.String()]++
		}
		if v, _ := ev.Get(event.RelatedUser); slices.Contains(asStrings(v), needleUser) {
			foundUser++
		}
	}
	if cefDataset != counts[KindCEF] {
		t.Errorf("%d of %d CEF lines became event.dataset trendmicro.deepsecurity", cefDataset, counts[KindCEF])
	}
	planted := g.Planted()
	// CEF and the sshd lines (linux.syslog) map the address to source.ip
	// and the user to user fields; the CloudTrail-like JSON keeps them in
	// its own fields only.
	if foundIP["cef"] != planted.IP["cef"] || foundIP["syslog"] != planted.IP["syslog"] || foundIP["cef"] == 0 || len(foundIP) != 2 {
		t.Errorf("source.ip = needle in %v, planted in CEF %d, syslog %d", foundIP, planted.IP["cef"], planted.IP["syslog"])
	}
	if want := planted.User["cef"] + planted.User["syslog"]; foundUser != want || foundUser == 0 {
		t.Errorf("related.user holds the needle user in %d events, planted in CEF and syslog %d", foundUser, want)
	}
	for k := range numKinds {
		if counts[k] == 0 {
			t.Fatalf("no %s events", k)
		}
		share := float64(counts[k]) / events * 100
		if want := DefaultMix[k]; share < want-3 || share > want+3 {
			t.Errorf("%s: %.1f%% of events, want about %.0f%%", k, share, want)
		}
	}
	if avg := sizes[KindCEF] / counts[KindCEF]; avg < 280 || avg > 450 {
		t.Errorf("CEF lines average %d bytes, want about 300-400", avg)
	}
	if avg := sizes[KindJSON] / counts[KindJSON]; avg < 800 || avg > 1300 {
		t.Errorf("JSON records average %d bytes, want about 1 KB", avg)
	}
}

func asStrings(v any) []string {
	s, _ := v.([]string)
	return s
}

// TestNeedlesAreRare checks that each needle is in exactly the events it
// was planted in, so that searches and rg can be checked against the
// planted counts.
func TestNeedlesAreRare(t *testing.T) {
	cfg := testConfig(30000, 3)
	g, err := NewGenerator(cfg)
	if err != nil {
		t.Fatal(err)
	}
	needles := []string{cfg.Needles.IP, cfg.Needles.User, cfg.Needles.Token}
	var found [3]int
	var line []byte
	for {
		_, l, ok := g.Next(line[:0])
		if !ok {
			break
		}
		line = l
		lower := bytes.ToLower(line)
		for n, s := range needles {
			if bytes.Contains(lower, []byte(strings.ToLower(s))) {
				found[n]++
			}
		}
	}
	p := g.Planted()
	for n, planted := range []map[string]int{p.IP, p.User, p.Token} {
		if total(planted) != cfg.Needles.Each || found[n] != cfg.Needles.Each {
			t.Errorf("needle %q: planted %v, found in %d lines; want %d", needles[n], planted, found[n], cfg.Needles.Each)
		}
	}
	if len(p.Token) != int(numKinds) {
		t.Errorf("token planted in kinds %v, want every kind of the mix", p.Token)
	}
}

func TestOnlyOneKind(t *testing.T) {
	for k := range numKinds {
		cfg := testConfig(3000, 1)
		cfg.Mix = Only(k)
		g, err := NewGenerator(cfg)
		if err != nil {
			t.Fatal(err)
		}
		var line []byte
		for {
			kind, l, ok := g.Next(line[:0])
			if !ok {
				break
			}
			line = l
			if kind != k {
				t.Fatalf("mix %s made a %s event", cfg.Mix, kind)
			}
		}
	}
}

func TestParseMix(t *testing.T) {
	m, err := ParseMix("cef=50, json=50")
	if err != nil || m != (Mix{KindCEF: 50, KindJSON: 50}) {
		t.Errorf("ParseMix = %v, %v", m, err)
	}
	for _, bad := range []string{"cef", "xml=10", "cef=-1", "cef=0,json=0", "cef=x"} {
		if _, err := ParseMix(bad); err == nil {
			t.Errorf("ParseMix(%q) accepted", bad)
		}
	}
	if got := DefaultMix.String(); got != "cef=60,syslog=30,json=10" {
		t.Errorf("DefaultMix.String() = %q", got)
	}
}

func TestBadConfigs(t *testing.T) {
	if _, err := NewGenerator(testConfig(40, 1)); err == nil {
		t.Error("40 events accepted for 3 needles in 10 events each")
	}
	cfg := testConfig(1000, 1)
	cfg.Days = 200
	if _, err := NewGenerator(cfg); err == nil {
		t.Error("200 days accepted: BSD timestamps would land in the wrong year")
	}
}

func BenchmarkGenerate(b *testing.B) {
	g, err := NewGenerator(testConfig(1<<40, 1))
	if err != nil {
		b.Fatal(err)
	}
	var line []byte
	var n int64
	b.ReportAllocs()
	for b.Loop() {
		_, l, _ := g.Next(line[:0])
		line = l
		n += int64(len(line))
	}
	b.SetBytes(n / int64(b.N))
}
