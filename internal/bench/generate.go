package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is the shape of a generated event, which also decides how it is
// sent: CEF and syslog lines over syslog TCP, JSON records over HTTP.
type Kind int

// The kinds of generated events.
const (
	KindCEF    Kind = iota // Trend Micro Deep Security CEF behind a syslog header
	KindSyslog             // Linux servers' syslog, RFC 3164 and RFC 5424
	KindJSON               // CloudTrail-like JSON records of about 1 KB
	numKinds
)

var kindNames = [numKinds]string{"cef", "syslog", "json"}

func (k Kind) String() string {
	if k < 0 || k >= numKinds {
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// ParseKind reads a kind's name.
func ParseKind(s string) (Kind, error) {
	for k, n := range kindNames {
		if s == n {
			return Kind(k), nil
		}
	}
	return 0, fmt.Errorf("unknown kind %q (want cef, syslog or json)", s)
}

// Mix is the relative weight of each kind; weights need not add up to 100.
type Mix [numKinds]float64

// DefaultMix is 60% CEF, 30% syslog, 10% JSON.
var DefaultMix = Mix{KindCEF: 60, KindSyslog: 30, KindJSON: 10}

// Only is the mix of one kind alone.
func Only(k Kind) Mix {
	var m Mix
	m[k] = 1
	return m
}

// ParseMix reads "cef=60,syslog=30,json=10" (kinds left out weigh 0).
func ParseMix(s string) (Mix, error) {
	var m Mix
	for part := range strings.SplitSeq(s, ",") {
		name, w, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return m, fmt.Errorf("mix %q: want kind=weight pairs, e.g. cef=60,syslog=30,json=10", s)
		}
		k, err := ParseKind(name)
		if err != nil {
			return m, fmt.Errorf("mix: %w", err)
		}
		f, err := strconv.ParseFloat(w, 64)
		if err != nil || f < 0 {
			return m, fmt.Errorf("mix: weight of %s: %q is not a number >= 0", name, w)
		}
		m[k] = f
	}
	return m, m.check()
}

func (m Mix) check() error {
	sum := 0.0
	for _, w := range m {
		sum += w
	}
	if sum <= 0 {
		return errors.New("mix: every weight is 0")
	}
	return nil
}

// String renders the mix as percentages, in ParseMix's syntax.
func (m Mix) String() string {
	sum := 0.0
	for _, w := range m {
		sum += w
	}
	var parts []string
	for k, w := range m {
		if w > 0 {
			parts = append(parts, kindNames[k]+"="+strconv.FormatFloat(100*w/sum, 'g', 4, 64))
		}
	}
	return strings.Join(parts, ",")
}

// Needles are rare values planted in the data so that searches have
// something rare to find. Nothing else generated contains them.
type Needles struct {
	IP    string `json:"ip"`
	User  string `json:"user"`
	Token string `json:"token"`
	// Each is the number of events each needle is planted in, spread
	// evenly over the period.
	Each int `json:"each"`
}

// DefaultNeedles are the needles of every run: an address in a
// documentation range no pool draws from, a login name no pool holds, and
// a token that random text practically never spells.
var DefaultNeedles = Needles{IP: "203.0.113.77", User: "rkobayashi", Token: "Xq7vRz2KpL", Each: 10}

// Planted counts, per needle, the events of each kind that carry it.
type Planted struct {
	IP    map[string]int `json:"ip"`
	User  map[string]int `json:"user"`
	Token map[string]int `json:"token"`
}

// Total is the number of events carrying a needle, whatever their kind.
func total(m map[string]int) int {
	n := 0
	for _, c := range m {
		n += c
	}
	return n
}

// GenConfig says what to generate.
type GenConfig struct {
	Events  int64
	Days    int
	End     time.Time // the last event's time; events before it, evenly spaced
	Seed    uint64
	Mix     Mix
	Needles Needles
}

// needle identifies which needle an event carries.
type needle int

const (
	noNeedle needle = iota
	needleIP
	needleUser
	needleToken
)

// plant is what a generated event must carry; empty fields carry nothing.
type plant struct {
	ip, user, token string
}

// Generator makes the events of a GenConfig one at a time, in time order.
// The same config always gives the same events.
type Generator struct {
	cfg     GenConfig
	r       *rand.Rand
	p       *pools
	start   time.Time
	step    time.Duration
	i       int64
	cum     [numKinds]float64 // cumulative mix, ending at 1
	kinds   []Kind            // the kinds the mix has, for needles
	needles map[int64]needleSlot
	planted Planted
}

type needleSlot struct {
	which needle
	kind  Kind
}

// NewGenerator checks cfg and prepares the generator.
func NewGenerator(cfg GenConfig) (*Generator, error) {
	if cfg.Events <= 0 {
		return nil, errors.New("generate: events must be > 0")
	}
	// BSD syslog timestamps carry no year: the server takes the year that
	// puts them nearest to now, which is only right within half a year.
	if cfg.Days <= 0 || cfg.Days > 180 {
		return nil, errors.New("generate: days must be between 1 and 180")
	}
	if err := cfg.Mix.check(); err != nil {
		return nil, err
	}
	n := cfg.Needles
	if n.Each < 0 || int64(3*n.Each) > cfg.Events/2 {
		return nil, fmt.Errorf("generate: %d events are too few for 3 needles in %d events each", cfg.Events, n.Each)
	}
	span := time.Duration(cfg.Days) * 24 * time.Hour
	g := &Generator{
		cfg:     cfg,
		r:       rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		start:   cfg.End.Add(-span),
		step:    span / time.Duration(cfg.Events),
		needles: map[int64]needleSlot{},
		planted: Planted{IP: map[string]int{}, User: map[string]int{}, Token: map[string]int{}},
	}
	g.p = newPools(g.r)
	sum := 0.0
	for _, w := range cfg.Mix {
		sum += w
	}
	acc := 0.0
	for k, w := range cfg.Mix {
		acc += w / sum
		g.cum[k] = acc
		if w > 0 {
			g.kinds = append(g.kinds, Kind(k))
		}
	}
	// Rounding must never leave room for a kind after the last one the mix has.
	for k := g.kinds[len(g.kinds)-1]; k < numKinds; k++ {
		g.cum[k] = 1
	}
	// Needle j of each needle sits in the middle of the j-th of Each equal
	// slices of the period; the three needles sit next to each other, and
	// take turns over the kinds the mix has.
	for j := range n.Each {
		at := (int64(2*j+1) * cfg.Events) / int64(2*n.Each)
		for w, which := range []needle{needleIP, needleUser, needleToken} {
			g.needles[at+int64(w)] = needleSlot{which: which, kind: g.kinds[(j+w)%len(g.kinds)]}
		}
	}
	return g, nil
}

// Start is the first event's time.
func (g *Generator) Start() time.Time { return g.start }

// Planted says which kinds of events carry each needle, counting the
// events generated so far.
func (g *Generator) Planted() Planted { return g.planted }

// Next appends the next event's line (without newline) to dst. ok is false
// once every event was generated.
func (g *Generator) Next(dst []byte) (kind Kind, line []byte, ok bool) {
	if g.i >= g.cfg.Events {
		return 0, dst, false
	}
	t := g.start.Add(time.Duration(g.i) * g.step)
	var pl plant
	slot, planted := g.needles[g.i]
	g.i++
	if planted {
		kind = slot.kind
		switch slot.which {
		case needleIP:
			pl.ip = g.cfg.Needles.IP
			g.planted.IP[kind.String()]++
		case needleUser:
			pl.user = g.cfg.Needles.User
			g.planted.User[kind.String()]++
		case needleToken:
			pl.token = g.cfg.Needles.Token
			g.planted.Token[kind.String()]++
		}
	} else {
		x := g.r.Float64()
		kind = Kind(sort.SearchFloat64s(g.cum[:], x))
		for g.cfg.Mix[kind] == 0 { // x fell on the edge of an empty kind
			kind++
		}
	}
	switch kind {
	case KindCEF:
		dst = g.cef(dst, t, pl)
	case KindSyslog:
		dst = g.syslog(dst, t, pl)
	default:
		dst = g.json(dst, t, pl)
	}
	return kind, dst, true
}

// Helpers shared by the formats.

func (g *Generator) pick(list []string) string { return list[g.r.IntN(len(list))] }

func (g *Generator) port() int { return 1024 + g.r.IntN(64511) }

// hex appends n random lower-case hex digits.
func (g *Generator) hex(b []byte, n int) []byte {
	const digits = "0123456789abcdef"
	for n > 0 {
		x := g.r.Uint64()
		for k := 0; k < 16 && n > 0; k++ {
			b = append(b, digits[x&15])
			x >>= 4
			n--
		}
	}
	return b
}

// upperHex appends n random upper-case hex digits.
func (g *Generator) upperHex(b []byte, n int) []byte {
	start := len(b)
	b = g.hex(b, n)
	for i := start; i < len(b); i++ {
		if b[i] >= 'a' {
			b[i] -= 'a' - 'A'
		}
	}
	return b
}

// uuid appends a random version-4 UUID.
func (g *Generator) uuid(b []byte) []byte {
	b = g.hex(b, 8)
	b = append(b, '-')
	b = g.hex(b, 4)
	b = append(b, "-4"...)
	b = g.hex(b, 3)
	b = append(b, '-', "89ab"[g.r.IntN(4)])
	b = g.hex(b, 3)
	b = append(b, '-')
	return g.hex(b, 12)
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// base64 appends n random base64 characters.
func (g *Generator) base64(b []byte, n int) []byte {
	for n > 0 {
		x := g.r.Uint64()
		for k := 0; k < 10 && n > 0; k++ {
			b = append(b, base64Chars[x&63])
			x >>= 6
			n--
		}
	}
	return b
}
