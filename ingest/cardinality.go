package ingest

// OtherValue is the label value that free-form values beyond the cap fold
// into.
const OtherValue = "other"

// labelCap bounds the distinct values one free-form label of one metric
// takes: the first max values are kept as they come, later new ones fold
// into OtherValue. Values once admitted stay admitted (their series are
// counters and must not vanish), so lowering the cap on reload only stops
// new values. Not safe for concurrent use: the Store's lock guards it.
type labelCap struct {
	metric, label string // for the overflow counter
	seen          map[string]struct{}
}

func newLabelCap(metric, label string) *labelCap {
	return &labelCap{metric: metric, label: label, seen: map[string]struct{}{}}
}

// fold returns v when it is admitted (or admits it while there is room) and
// OtherValue otherwise; folded reports the second case.
func (c *labelCap) fold(v string, limit int) (value string, folded bool) {
	if v == OtherValue {
		return v, false
	}
	if _, ok := c.seen[v]; ok {
		return v, false
	}
	if len(c.seen) >= limit {
		return OtherValue, true
	}
	c.seen[v] = struct{}{}
	return v, false
}
