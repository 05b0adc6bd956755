package report

import (
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/ritual/query"
)

// TestHeatStripCells: a fire that began before the strip counts from the
// strip's start; the last cell, cut short by the window, on its own length.
func TestHeatStripCells(t *testing.T) {
	start := time.Date(2026, 12, 2, 18, 0, 7, 0, time.UTC)
	w := Window{Start: start, End: start.Add(8*time.Minute + 30*time.Second)}
	eps := []query.Episode{
		{Alertname: "SystemDown", Start: start.Add(-30 * time.Second), End: start.Add(30 * time.Second)},
		{Alertname: "ErrorStorm", Start: start.Add(8 * time.Minute), End: w.End},
	}
	h := (&builder{}).heatStrip(eps, w)
	if h.Cell != time.Minute || len(h.Firing) != 2 || len(h.Firing[0]) != 9 {
		t.Fatalf("strip of %d rows, cells of %s: %v", len(h.Firing), h.Cell, h.Firing)
	}
	// Rows sorted by alert: ErrorStorm, SystemDown.
	if got := h.Firing[0][8]; got != 1 {
		t.Errorf("ErrorStorm fired the last 30 s, all of the last cell: share %g, want 1", got)
	}
	if got := h.Firing[1][0]; got != 0.5 {
		t.Errorf("SystemDown fired the strip's first 30 s: share of the first cell %g, want 0.5", got)
	}
}
