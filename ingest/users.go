package ingest

import (
	"hash/maphash"
	"time"

	"github.com/axiomhq/hyperloglog"
)

// ActiveUserWindow is how far back a user counts as active (the plan's
// active_users).
const ActiveUserWindow = 5 * time.Minute

// maxTrackedUsers bounds the exact active-user set: about 40 bytes a user
// with map overhead, 4 MB when full. Beyond it, users are counted by the
// HyperLogLog sketches only.
const maxTrackedUsers = 100_000

// The window is cut into buckets. The exact set expires a bucket at a time
// (amortised O(1) a sighting, not a scan of every user), and each bucket
// has a sketch, so that the sketches of the buckets in the window merge
// into the distinct count of the window.
const (
	userBucketWidth = 10 * time.Second
	// userBuckets spans the window plus the bucket it starts in.
	userBuckets = int(ActiveUserWindow/userBucketWidth) + 1
)

// userEntry is a user in the exact set: when it was last seen and which
// bucket's list holds its entry (the list entries of other buckets are
// stale).
type userEntry struct {
	lastSeen int64 // unix nanoseconds
	listed   int64 // bucket number
}

type userBucket struct {
	number int64               // -1: empty
	users  []uint64            // entries listed here, some stale
	sketch *hyperloglog.Sketch // every sighting in the bucket
}

// activeUsers counts the distinct users seen in the last ActiveUserWindow:
// exactly while they fit in the set, else by HyperLogLog (precision 16,
// about 0.4 % standard error, 64 KiB a bucket). It keeps a 64-bit seeded hash of each user,
// never the user string, so its memory does not depend on what clients
// send. Not safe for concurrent use: the Store's lock guards it.
type activeUsers struct {
	seed    maphash.Seed
	exact   map[uint64]userEntry
	max     int
	buckets [userBuckets]userBucket
	// expiredThrough is the newest bucket number already expired.
	expiredThrough int64
	// overflowAt is when the exact set last had no room (unix
	// nanoseconds): until it leaves the window, the count is estimated.
	overflowAt int64
	untrack    uint64 // sightings the exact set had no room for
	everSeen   bool
	moving     []uint64 // scratch of expire
	trimmedAt  int64    // unix nanoseconds of the last trimEdge

	// interior caches the merge of the buckets strictly between
	// interiorFrom and interiorTo (the edge and the newest bucket when it
	// was built): a scrape then merges two sketches, not thirty. Rebuilt
	// when either end moves; sightings backdated into it are added to it.
	interior                 *hyperloglog.Sketch
	interiorFrom, interiorTo int64
}

func newActiveUsers(maxExact int) *activeUsers {
	a := &activeUsers{seed: maphash.MakeSeed(), exact: map[uint64]userEntry{}, max: maxExact, expiredThrough: -1, overflowAt: -1}
	for i := range a.buckets {
		a.buckets[i].number = -1
	}
	return a
}

func bucketOf(ts int64) int64 { return ts / int64(userBucketWidth) }

// slot returns the bucket for number n, starting it if its slot is free;
// nil when the slot holds a newer bucket (n is out of the window).
func (a *activeUsers) slot(n int64) *userBucket {
	b := &a.buckets[n%int64(userBuckets)]
	switch {
	case b.number == n:
	case b.number < n:
		// expire has emptied anything older than the window.
		b.number = n
		if b.sketch == nil {
			b.sketch = hyperloglog.New16NoSparse()
		}
	default:
		return nil
	}
	return b
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
	a.expire(now)
	ts := t.UnixNano()
	b := a.slot(bucketOf(ts))
	if b == nil {
		return
	}
	a.everSeen = true
	h := maphash.String(a.seed, user)
	b.sketch.InsertHash(h)
	if a.interior != nil && b.number > a.interiorFrom && b.number < a.interiorTo {
		a.interior.InsertHash(h)
	}
	if e, ok := a.exact[h]; ok {
		// Its list entry moves to the newer bucket when the listed one
		// expires, not now.
		if ts > e.lastSeen {
			e.lastSeen = ts
			a.exact[h] = e
		}
		return
	}
	if len(a.exact) >= a.max && now.UnixNano()-a.trimmedAt >= int64(time.Second) {
		// At most once a second, so that a full set costs no scan a
		// sighting.
		a.trimEdge(now)
	}
	if len(a.exact) >= a.max {
		a.untrack++
		a.overflowAt = now.UnixNano()
		return
	}
	a.exact[h] = userEntry{lastSeen: ts, listed: b.number}
	b.users = append(b.users, h)
}

// expire empties the buckets wholly older than the window: users last seen
// in them leave the exact set, users seen since move to the bucket of
// their last sighting. Each list entry is handled once, so the cost is
// amortised over the sightings that made it.
func (a *activeUsers) expire(now time.Time) {
	cutoff := now.Add(-ActiveUserWindow).UnixNano()
	last := bucketOf(cutoff) - 1 // the newest bucket wholly at or before cutoff
	if last <= a.expiredThrough {
		return
	}
	a.expiredThrough = last
	for i := range a.buckets {
		b := &a.buckets[i]
		n := b.number
		if n < 0 || n > last {
			continue
		}
		for _, h := range b.users {
			e, ok := a.exact[h]
			if !ok || e.listed != n {
				continue // stale: removed, or listed in a newer bucket
			}
			if e.lastSeen <= cutoff {
				delete(a.exact, h)
				continue
			}
			a.moving = append(a.moving, h)
		}
		b.number = -1
		// A burst must not pin its list's memory for good.
		if cap(b.users) > 4096 {
			b.users = nil
		} else {
			b.users = b.users[:0]
		}
		b.sketch = nil
	}
	// Moved once every expired bucket is free: a target's slot may hold
	// a bucket expired later in the loop above.
	for _, h := range a.moving {
		e := a.exact[h]
		to := a.slot(bucketOf(e.lastSeen))
		if to == nil {
			delete(a.exact, h)
			continue
		}
		e.listed = to.number
		a.exact[h] = e
		to.users = append(to.users, h)
	}
	if cap(a.moving) > 4096 {
		a.moving = nil
	} else {
		a.moving = a.moving[:0]
	}
}

// count returns the users active at now: exact unless the exact set ran
// out of room within the window. Then it returns instead a function that
// computes the estimate from copies of the sketches, for the caller to run
// without the Store's lock: ingest need not wait for a scrape's merges.
func (a *activeUsers) count(now time.Time) (float64, func() float64) {
	a.expire(now)
	cutoff := now.Add(-ActiveUserWindow).UnixNano()
	if a.overflowAt > cutoff {
		return 0, a.estimate(cutoff, now.UnixNano())
	}
	a.trimEdge(now)
	return float64(len(a.exact)), nil
}

// trimEdge drops from the exact set the users of the bucket straddling the
// window's start who were last seen before it.
func (a *activeUsers) trimEdge(now time.Time) {
	a.trimmedAt = now.UnixNano()
	cutoff := now.Add(-ActiveUserWindow).UnixNano()
	edge := bucketOf(cutoff)
	b := &a.buckets[edge%int64(userBuckets)]
	if b.number != edge {
		return
	}
	for _, h := range b.users {
		if e, ok := a.exact[h]; ok && e.listed == edge && e.lastSeen <= cutoff {
			delete(a.exact, h)
		}
	}
}

// estimate merges the sketches of the buckets within the window. The
// bucket straddling the cutoff counts for the part of it inside the
// window: its new users are taken as spread evenly over it. The merges
// and estimates run in the returned function, on copies.
func (a *activeUsers) estimate(cutoff, now int64) func() float64 {
	edge, newest := bucketOf(cutoff), bucketOf(now)
	if a.interior == nil || a.interiorFrom != edge || a.interiorTo != newest {
		a.interior, a.interiorFrom, a.interiorTo = hyperloglog.New16NoSparse(), edge, newest
		for i := range a.buckets {
			if b := &a.buckets[i]; b.number > edge && b.number < newest && b.sketch != nil {
				_ = a.interior.Merge(b.sketch) // same precision: cannot fail
			}
		}
	}
	copyOf := func(n int64) *hyperloglog.Sketch {
		if b := &a.buckets[n%int64(userBuckets)]; b.number == n && b.sketch != nil {
			return b.sketch.Clone()
		}
		return nil
	}
	inside, newestSketch, edgeSketch := a.interior.Clone(), copyOf(newest), copyOf(edge)
	return func() float64 {
		if newestSketch != nil {
			_ = inside.Merge(newestSketch)
		}
		n := float64(inside.Estimate())
		if edgeSketch == nil {
			return n
		}
		withEdge := inside
		_ = withEdge.Merge(edgeSketch)
		edgeEnd := (edge + 1) * int64(userBucketWidth)
		inWindow := float64(edgeEnd-cutoff) / float64(userBucketWidth)
		return n + inWindow*max(0, float64(withEdge.Estimate())-n)
	}
}

// tracked is the size of the exact set.
func (a *activeUsers) tracked() int { return len(a.exact) }
