package auth

import (
	"sync"
	"time"
)

// Limiter locks out a key (a user name, a client address) after repeated
// failed logins. The limit-th failure locks the key for the base lock-out;
// each further failure (once the lock ends) doubles it, up to max.
// Failures are forgotten after a quiet stretch, and a successful login
// forgets a user name's.
type Limiter struct {
	base, max time.Duration
	// forget is the quiet stretch after which a key's failures are
	// forgotten.
	forget time.Duration
	now    func() time.Time

	mu sync.Mutex
	m  map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time
}

// maxLimiterKeys bounds the table: past it, keys neither locked nor
// recently failing are dropped.
const maxLimiterKeys = 100_000

// NewLimiter returns a limiter with the first lock-out base, doubling up
// to maxLock.
func NewLimiter(base, maxLock time.Duration, now func() time.Time) *Limiter {
	if now == nil {
		now = time.Now
	}
	return &Limiter{base: base, max: maxLock, forget: max(2*maxLock, 15*time.Minute), now: now, m: map[string]*failures{}}
}

// Locked returns how much longer key is locked out (0 when it is not).
func (l *Limiter) Locked(key string) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[key]
	if !ok {
		return 0
	}
	if d := f.until.Sub(l.now()); d > 0 {
		return d
	}
	return 0
}

// Fail counts a failed login of key, whose limit is the failures allowed
// before a lock-out.
func (l *Limiter) Fail(key string, limit int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	f, ok := l.m[key]
	if !ok {
		if len(l.m) >= maxLimiterKeys {
			l.sweep(now)
		}
		f = &failures{}
		l.m[key] = f
	}
	if now.Sub(f.last) > l.forget {
		f.n = 0
	}
	f.n++
	f.last = now
	if f.n >= limit {
		lock := l.base
		for i := limit; i < f.n && lock < l.max; i++ {
			lock *= 2
		}
		f.until = now.Add(min(lock, l.max))
	}
}

// Reset forgets key's failures.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.m, key)
}

func (l *Limiter) sweep(now time.Time) {
	for k, f := range l.m {
		if now.After(f.until) && now.Sub(f.last) > time.Minute {
			delete(l.m, k)
		}
	}
}
