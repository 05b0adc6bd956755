package main

import (
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// seedWord is the internal name the /metrics HELP texts must not use: the
// metric names they cite come from the plan (docs/telemetry-plan.md).
var seedWord = regexp.MustCompile(`(?i)\bseed\b`)

// Every HELP text the exporter serves on its built-in defaults, and every
// HELP text its collectors and the ingest store declare (some are only
// registered with a config that enables them).
func TestHelpTextsSayPlanNotSeed(t *testing.T) {
	e, _ := newTestExporter(t, "")
	reg := prometheus.NewRegistry()
	reg.MustRegister(e.sources)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(families) == 0 {
		t.Fatal("no metric families gathered")
	}
	for _, mf := range families {
		if seedWord.MatchString(mf.GetHelp()) {
			t.Errorf("%s: HELP says seed: %q", mf.GetName(), mf.GetHelp())
		}
	}
	// Described but not yet gathered: vectors without a child, such as the
	// wallet balance before anything reported it. Desc.String holds the help.
	descs := make(chan *prometheus.Desc)
	go func() { e.sources.Describe(descs); close(descs) }()
	n := 0
	for d := range descs {
		n++
		if seedWord.MatchString(d.String()) {
			t.Errorf("HELP says seed: %s", d)
		}
	}
	if n == 0 {
		t.Fatal("no descriptors")
	}
}
