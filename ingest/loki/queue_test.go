package loki

import (
	"net/http"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// A reload replaces the forwarder while ingest requests are in flight:
// entries handed to the old one after its Close are counted as shutdown
// drops, not lost uncounted.
func TestEnqueueAfterCloseIsCountedAsShutdown(t *testing.T) {
	_, f, m := start(t, http.StatusNoContent)
	f.Close()
	f.Enqueue(entries())
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("shutdown")); v != 3 {
		t.Errorf("shutdown drops %v, want 3", v)
	}
	if v := testutil.ToFloat64(m.Dropped.WithLabelValues("queue_full")); v != 0 {
		t.Errorf("queue_full drops %v, want 0: the queue was not full", v)
	}
}
