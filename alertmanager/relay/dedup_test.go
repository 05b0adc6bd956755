package relay

import (
	"context"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// Two clustered Alertmanagers post the same notification while the first
// delivery is still being retried: the second waits for its outcome.
func TestClaimWaitsForADeliveryInFlight(t *testing.T) {
	for _, tc := range []struct {
		name          string
		firstOutcome  bool
		wantSecondOwn bool
	}{
		{"first delivered: second is a duplicate", true, false},
		{"first failed: second sends", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDelivered(time.Minute, 10)
			k := keyOf("discord", "group", false, format.Message{Alerts: []string{"body"}}, nil)
			if seen, err := d.Claim(context.Background(), k); seen || err != nil {
				t.Fatalf("first claim: seen=%v err=%v, want ownership", seen, err)
			}
			type result struct {
				seen bool
				err  error
			}
			second := make(chan result, 1)
			go func() {
				seen, err := d.Claim(context.Background(), k)
				second <- result{seen, err}
			}()
			select {
			case r := <-second:
				t.Fatalf("second claim returned %+v while the first was in flight", r)
			case <-time.After(50 * time.Millisecond):
			}
			d.Finish(k, tc.firstOutcome)
			r := <-second
			if r.err != nil || r.seen == tc.wantSecondOwn {
				t.Fatalf("second claim: seen=%v err=%v, want seen=%v", r.seen, r.err, !tc.wantSecondOwn)
			}
		})
	}
}

func TestClaimGivesUpWithTheDeadline(t *testing.T) {
	d := newDelivered(time.Minute, 10)
	k := keyOf("slack", "group", false, format.Message{Alerts: []string{"body"}}, nil)
	if _, err := d.Claim(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if seen, err := d.Claim(ctx, k); seen || err == nil {
		t.Fatalf("claim behind a stuck delivery: seen=%v err=%v, want the deadline error", seen, err)
	}
}
