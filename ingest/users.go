package ingest

import (
	"hash/maphash"
	"time"
)

// ActiveUserWindow is how far back a user counts as active (the seed's
// active_users).
const ActiveUserWindow = 5 * time.Minute

// maxTrackedUsers bounds the active-user tracker: 16 bytes of key and value
// per user plus map overhead, about 5 MB when full. Beyond it, users not
// yet tracked are not counted until older ones expire; those misses are
// counted so that a saturated gauge is visible.
const maxTrackedUsers = 100_000

// activeUsers counts the distinct users seen in the last ActiveUserWindow.
// It keeps a 64-bit seeded hash of each user, never the user string, so its
// memory does not depend on what clients send. Not safe for concurrent use:
// the Store's lock guards it.
type activeUsers struct {
	seed     maphash.Seed
	lastSeen map[uint64]int64 // hash -> unix nanoseconds
	max      int
	untrack  uint64 // users not tracked because the tracker was full
	everSeen bool
}

func newActiveUsers(max int) *activeUsers {
	return &activeUsers{seed: maphash.MakeSeed(), lastSeen: map[uint64]int64{}, max: max}
}

// see records user as active at t; times older than the window are ignored
// and future times are taken as now.
func (a *activeUsers) see(user string, t, now time.Time) {
	if t.After(now) {
		t = now
	}
	if now.Sub(t) >= ActiveUserWindow {
		return
	}
	a.everSeen = true
	h := maphash.String(a.seed, user)
	ts := t.UnixNano()
	if prev, ok := a.lastSeen[h]; ok {
		if ts > prev {
			a.lastSeen[h] = ts
		}
		return
	}
	if len(a.lastSeen) >= a.max {
		a.expire(now)
		if len(a.lastSeen) >= a.max {
			a.untrack++
			return
		}
	}
	a.lastSeen[h] = ts
}

func (a *activeUsers) expire(now time.Time) {
	cutoff := now.Add(-ActiveUserWindow).UnixNano()
	for h, ts := range a.lastSeen {
		if ts <= cutoff {
			delete(a.lastSeen, h)
		}
	}
}

// count returns the users active at now.
func (a *activeUsers) count(now time.Time) int {
	a.expire(now)
	return len(a.lastSeen)
}
