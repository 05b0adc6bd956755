package collector

import (
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
)

type fakeSource struct {
	value float64
	err   error
}

var fakeDesc = prometheus.NewDesc("resonance_fake", "A fake source's value.", nil, nil)

func (f fakeSource) Update(ch chan<- prometheus.Metric) error {
	if f.err != nil {
		return f.err
	}
	ch <- prometheus.MustNewConstMetric(fakeDesc, prometheus.GaugeValue, f.value)
	return nil
}

// A failing source is reported as such and never fails the scrape: the
// other sources' metrics are still served.
func TestFailingSourceDoesNotFailTheScrape(t *testing.T) {
	r := &Resonance{
		collectors: map[string]Collector{
			"good":   fakeSource{value: 42},
			"broken": fakeSource{err: errors.New("statfs /nfs: timed out")},
		},
		logger: promslog.NewNopLogger(),
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewReloadable(r))
	want := `
# HELP resonance_fake A fake source's value.
# TYPE resonance_fake gauge
resonance_fake 42
# HELP resonance_scrape_collector_success Whether a collector succeeded.
# TYPE resonance_scrape_collector_success gauge
resonance_scrape_collector_success{collector="broken"} 0
resonance_scrape_collector_success{collector="good"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "resonance_fake", "resonance_scrape_collector_success"); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "resonance_scrape_collector_duration_seconds"); err != nil || n != 2 {
		t.Fatalf("duration series: %d, %v", n, err)
	}
}

// A reload swaps the sources behind the registered collector and closes
// the previous ones.
func TestReloadableSwapClosesThePrevious(t *testing.T) {
	closed := 0
	first := &Resonance{collectors: map[string]Collector{"a": closingSource{fakeSource{value: 1}, &closed}}, logger: promslog.NewNopLogger()}
	second := &Resonance{collectors: map[string]Collector{"a": fakeSource{value: 2}}, logger: promslog.NewNopLogger(), fresh: map[string]bool{"a": true}}
	rl := NewReloadable(first)
	if err := rl.Swap(second); err != nil {
		t.Fatal(err)
	}
	if closed != 1 {
		t.Fatalf("previous sources closed %d times, want 1", closed)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(rl)
	if err := testutil.GatherAndCompare(reg, strings.NewReader("# HELP resonance_fake A fake source's value.\n# TYPE resonance_fake gauge\nresonance_fake 2\n"), "resonance_fake"); err != nil {
		t.Fatal(err)
	}
}

type closingSource struct {
	fakeSource
	closed *int
}

func (c closingSource) Close() error { *c.closed++; return nil }
