package dhcp

import (
	"cmp"
	"slices"
	"sort"
	"strings"
)

// kind is what a lease observation does to the address's current holder.
// The order is the tie-break between observations of the same instant:
// endings first, then offers, then binds, so that "released and bound
// again in the same second" leaves the address bound.
type kind uint8

const (
	kindEnd   kind = iota // released, expired, declined: the holder lets go
	kindOffer             // offered: the server thinks the address is free
	kindBind              // bound: the client holds the address
)

// observation is one lease event for one address. Times are Unix
// nanoseconds: half the size of time.Time, and compared as integers.
type observation struct {
	at   int64
	dur  int64 // lease length in nanoseconds; 0 when the log gave none
	mac  string
	host string
	kind kind
}

func compareObs(a, b observation) int {
	if c := cmp.Compare(a.at, b.at); c != 0 {
		return c
	}
	if c := cmp.Compare(a.kind, b.kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.mac, b.mac); c != 0 {
		return c
	}
	if c := strings.Compare(a.host, b.host); c != 0 {
		return c
	}
	return cmp.Compare(a.dur, b.dur)
}

// interval is one holder of an address: [start, end) in Unix nanoseconds.
type interval struct {
	start, end int64
	mac, host  string
}

// history is everything known about one address: its observations, sorted
// by compareObs without duplicates, and the intervals folded from them.
// The intervals are a pure function of the sorted observations, which is
// what makes the table independent of the order events arrive in.
type history struct {
	obs []observation
	ivs []interval
	// active says the last interval can still be renewed or cut by the
	// next observation (nothing has ended it yet).
	active bool
}

// add inserts o and updates the intervals; it reports whether o was new.
func (h *history) add(o observation, defaultLease int64) bool {
	i, found := slices.BinarySearchFunc(h.obs, o, compareObs)
	if found {
		return false
	}
	h.intern(&o, i)
	if i == len(h.obs) {
		// The usual case, events in order: continue the fold.
		h.obs = append(h.obs, o)
		h.step(o, defaultLease)
		return true
	}
	h.obs = slices.Insert(h.obs, i, o)
	h.refold(defaultLease)
	return true
}

// intern makes o share its MAC and host name strings with a neighbour's
// equal ones: an address sees the same client's renewals over and over,
// and the strings of a month of them need not be kept apart.
func (h *history) intern(o *observation, i int) {
	for _, j := range [2]int{i - 1, i} {
		if j < 0 || j >= len(h.obs) {
			continue
		}
		if h.obs[j].mac == o.mac {
			o.mac = h.obs[j].mac
		}
		if h.obs[j].host == o.host {
			o.host = h.obs[j].host
		}
	}
}

// sortObs sorts observations, drops duplicates and shares equal strings
// between neighbours: the preparation of a replay's observations, done
// before the table is locked.
func sortObs(obs []observation) []observation {
	slices.SortFunc(obs, compareObs)
	obs = slices.CompactFunc(obs, func(a, b observation) bool { return compareObs(a, b) == 0 })
	for i := 1; i < len(obs); i++ {
		if obs[i].mac == obs[i-1].mac {
			obs[i].mac = obs[i-1].mac
		}
		if obs[i].host == obs[i-1].host {
			obs[i].host = obs[i-1].host
		}
	}
	return obs
}

// merge adds observations sorted by sortObs (a replay's) to the history.
func (h *history) merge(obs []observation, defaultLease int64) {
	if len(h.obs) == 0 {
		h.obs = obs
	} else {
		h.obs = sortObs(append(h.obs, obs...))
	}
	h.refold(defaultLease)
}

func (h *history) refold(defaultLease int64) {
	h.ivs = h.ivs[:0]
	h.active = false
	for _, o := range h.obs {
		h.step(o, defaultLease)
	}
}

// step applies one observation, later than every one before it, to the
// intervals:
//   - a bind starts an interval [at, at+duration), or [at, at+default)
//     without a duration; a bind by the current holder renews its interval
//     (the end moves to the new lease's end), unless it names another host;
//   - a bind or an offer for another MAC ends the current interval: the
//     server gives the address away only once the holder has let it go;
//   - a release, expiry or decline ends the current interval;
//   - an interval whose end has passed is over, and is not renewed.
func (h *history) step(o observation, defaultLease int64) {
	var cur *interval
	if h.active {
		cur = &h.ivs[len(h.ivs)-1]
		if o.at >= cur.end {
			h.active, cur = false, nil
		}
	}
	switch o.kind {
	case kindEnd:
		if cur != nil {
			h.cut(o.at)
		}
	case kindOffer:
		if cur != nil && cur.mac != o.mac {
			h.cut(o.at)
		}
	case kindBind:
		dur := o.dur
		if dur <= 0 {
			dur = defaultLease
		}
		end := o.at + dur
		if cur != nil && cur.mac == o.mac && (o.host == "" || cur.host == "" || o.host == cur.host) {
			cur.end = end
			if cur.host == "" {
				cur.host = o.host
			}
			return
		}
		if cur != nil {
			h.cut(o.at)
		}
		h.ivs = append(h.ivs, interval{start: o.at, end: end, mac: o.mac, host: o.host})
		h.active = true
	}
}

// cut ends the active interval at t, dropping it when that leaves it empty
// (two holders at the same instant: the later in compareObs order wins).
func (h *history) cut(t int64) {
	n := len(h.ivs) - 1
	h.ivs[n].end = t
	if h.ivs[n].end <= h.ivs[n].start {
		h.ivs = h.ivs[:n]
	}
	h.active = false
}

// at returns the interval holding time t. The pointer is valid while the
// caller holds the table's lock.
func (h *history) at(t int64) (*interval, bool) {
	// Intervals do not overlap and are sorted by start: the candidate is
	// the last one starting at or before t.
	i := sort.Search(len(h.ivs), func(i int) bool { return h.ivs[i].start > t }) - 1
	if i >= 0 && t < h.ivs[i].end {
		return &h.ivs[i], true
	}
	return nil, false
}

// prune forgets what ends at or before cutoff. It keeps the observations
// from the start of the first interval it keeps (or from cutoff), which
// folded afresh give the same intervals after cutoff as the whole history
// did: every interval dropped ended by then, so none can still be renewed
// or cut. It reports whether anything is left.
func (h *history) prune(cutoff int64) bool {
	k := sort.Search(len(h.ivs), func(i int) bool { return h.ivs[i].end > cutoff })
	keepFrom := cutoff
	if k < len(h.ivs) && h.ivs[k].start < cutoff {
		keepFrom = h.ivs[k].start
	}
	j := sort.Search(len(h.obs), func(i int) bool { return h.obs[i].at >= keepFrom })
	if j > 0 {
		h.obs = slices.Delete(h.obs, 0, j)
	}
	if k > 0 {
		h.ivs = slices.Delete(h.ivs, 0, k)
	}
	if len(h.ivs) == 0 {
		h.active = false
	}
	return len(h.obs) > 0
}
