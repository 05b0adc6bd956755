package relay

import (
	"context"
	"crypto/sha256"
	"sync"
	"time"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// messageKey identifies a message by what it says, not how: its target, its
// Alertmanager group, and the identity and state (firing or resolved) of
// each alert it carries, as Alertmanager itself tells notifications apart.
// Not the id of the message it edits: that id is forgotten once edited, so
// the same resolution sent again (the second Alertmanager of a pair, a retry
// after a partial failure) would come as a new post with a new key; one
// resolution is one edit. Only edit_and_post, which edits and posts the same
// alerts, tells its edit apart (edit). Never the rendered text: clustered
// Alertmanagers render the same alerts with their own external URLs (the
// Silence links), and two alerts a template renders alike stay two.
// SHA-256 makes a collision, which would silently skip a message,
// practically impossible.
type messageKey [sha256.Size]byte

// keyOf is m's key; firing holds the identities of the notification's
// firing alerts, edit marks the edit of an edit_and_post target.
func keyOf(target, groupKey string, edit bool, m format.Message, firing map[string]bool) messageKey {
	var stack [512]byte // no allocation for the usual message
	b := append(stack[:0], target...)
	b = append(b, 0)
	b = append(b, groupKey...)
	b = append(b, 0)
	if edit {
		b = append(b, 'e')
	}
	b = append(b, 0)
	for _, a := range m.Alerts {
		b = append(b, a...)
		if firing[a] {
			b = append(b, 0, 'f')
		} else {
			b = append(b, 0, 'r')
		}
	}
	return sha256.Sum256(b)
}

// delivered remembers recently delivered messages so that Alertmanager
// retrying a partly failed notification does not post the delivered part
// twice. It holds at most max keys, each for ttl: a ring buffer in insertion
// order (which is also expiry order) plus an index, so both memory and the
// cost of each call are bounded whatever the input.
type delivered struct {
	ttl time.Duration
	now func() time.Time

	mu       sync.Mutex
	inFlight map[messageKey]chan struct{} // being sent now; closed when done
	index    map[messageKey]time.Time     // key → when it expires
	ring     []messageKey                 // insertion order; len == max
	head     int                          // oldest entry
	size     int
}

func newDelivered(ttl time.Duration, capacity int) *delivered {
	return &delivered{
		ttl:      ttl,
		now:      time.Now,
		inFlight: map[messageKey]chan struct{}{},
		index:    make(map[messageKey]time.Time, min(capacity, 1024)),
		ring:     make([]messageKey, capacity),
	}
}

// Seen reports whether k was delivered within the last ttl.
func (d *delivered) Seen(k messageKey) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	exp, ok := d.index[k]
	return ok && d.now().Before(exp)
}

// Claim decides who sends k. Two clustered Alertmanagers (or one retrying)
// can post the same notification while its first delivery is still being
// retried; the second must wait for that outcome, not post again. Claim
// returns seen when k was delivered; otherwise it waits (until ctx ends)
// for a delivery of k in flight and then decides again; otherwise the
// caller owns k and must call Finish. Entries in flight are bounded by the
// requests being served.
func (d *delivered) Claim(ctx context.Context, k messageKey) (seen bool, err error) {
	for {
		d.mu.Lock()
		if exp, ok := d.index[k]; ok && d.now().Before(exp) {
			d.mu.Unlock()
			return true, nil
		}
		wait, busy := d.inFlight[k]
		if !busy {
			d.inFlight[k] = make(chan struct{})
			d.mu.Unlock()
			return false, nil
		}
		d.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// Finish ends the claim on k, remembering it when it was delivered.
func (d *delivered) Finish(k messageKey, delivered bool) {
	if delivered {
		d.Remember(k)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if wait, ok := d.inFlight[k]; ok {
		close(wait)
		delete(d.inFlight, k)
	}
}

// Remember records k as delivered now, evicting the oldest entry when full.
func (d *delivered) Remember(k messageKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	d.expire(now)
	if _, ok := d.index[k]; ok {
		// Already in the ring; refreshing its expiry would break the
		// ring's expiry order, and the message is rarely delivered twice.
		return
	}
	if d.size == len(d.ring) {
		d.evictOldest()
	}
	d.ring[(d.head+d.size)%len(d.ring)] = k
	d.size++
	d.index[k] = now.Add(d.ttl)
}

// Len is the number of remembered messages.
func (d *delivered) Len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.size
}

func (d *delivered) expire(now time.Time) {
	for d.size > 0 && !now.Before(d.index[d.ring[d.head]]) {
		d.evictOldest()
	}
}

func (d *delivered) evictOldest() {
	delete(d.index, d.ring[d.head])
	d.ring[d.head] = messageKey{}
	d.head = (d.head + 1) % len(d.ring)
	d.size--
}
