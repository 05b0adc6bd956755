package format_test

import (
	"maps"
	"math"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

func TestTruncate(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{"short", 10, "short", false},
		{"exactly10!", 10, "exactly10!", false},
		{"eleven chars", 10, "eleven ch…", true},
		{"ääääää", 4, "äää…", true}, // runes, not bytes: no split UTF-8
		{"ääää", 4, "ääää", false},  // 8 bytes, 4 runes: fits
		{"🚨🚨🚨", 2, "🚨…", true},
		{"abc", 0, "", true},
		{"", 0, "", false},
	} {
		got, cut := format.Truncate(c.in, c.max)
		if got != c.want || cut != c.cut {
			t.Errorf("format.Truncate(%q, %d) = %q, %v; want %q, %v", c.in, c.max, got, cut, c.want, c.cut)
		}
		if format.Len(got) > c.max {
			t.Errorf("format.Truncate(%q, %d) has %d runes", c.in, c.max, format.Len(got))
		}
	}
	long := strings.Repeat("x", 5000)
	if got, cut := format.Truncate(long, 4096); format.Len(got) != 4096 || !strings.HasSuffix(got, format.Ellipsis) || !cut {
		t.Errorf("long text: %d runes, suffix %q, cut %v", format.Len(got), got[len(got)-5:], cut)
	}
}

// Truncations records one entry per cut text and stays nil (no allocation)
// while nothing is cut.
func TestTruncationsRecordCutFields(t *testing.T) {
	var cut format.Truncations
	if got := cut.Truncate("embed.title", "fits", 10); got != "fits" || cut != nil {
		t.Fatalf("uncut text: %q, recorded %v", got, cut)
	}
	cut.Truncate("embed.description", "far too long", 5)
	cut.Truncate("embed.fields", "also too long", 5)
	cut.Truncate("embed.title", "fits", 10)
	if want := (format.Truncations{"embed.description", "embed.fields"}); !slices.Equal(cut, want) {
		t.Errorf("recorded %q, want %q", cut, want)
	}
}

func TestParseNumber(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"25", 25, true},
		{"85%", 85, true},
		{" 2500ms", 2500, true},
		{"0.95", 0.95, true},
		{"-3", -3, true},
		{"1.5e3 B", 1500, true},
		{"85eur", 85, true},
		{"", 0, false},
		{"n/a", 0, false},
		{"NaN", 0, false},
		{"Inf", 0, false},
		{"1e999", 1e99, true}, // the longest prefix that is a finite number
		{strings.Repeat("9", 64) + " ms", 1e64, true},
		// A crafted value: no number, read in one bounded pass.
		{strings.Repeat("9", 80000), 0, false},
		{strings.Repeat("9", 65), 0, false},
	} {
		got, ok := format.ParseNumber(c.in)
		if ok != c.ok || got != c.want {
			t.Errorf("format.ParseNumber(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestTemplatesCompileRejectsBadTemplates(t *testing.T) {
	for _, tmpl := range []format.Templates{
		{Title: "{{ .Nope }"},               // syntax
		{Headline: "{{ undefinedFunc . }}"}, // unknown function
		{Description: "{{ .NoSuchField }}"}, // unknown field of template.Data
	} {
		if err := tmpl.Compile(); err == nil {
			t.Errorf("Compile(%+v) succeeded, want an error", tmpl)
		}
	}
	ok := format.Templates{Headline: `{{ .Status | toUpper }} {{ .CommonLabels.alertname }}`, Title: `{{ template "slack.default.title" . }}`}
	if err := ok.Compile(); err != nil {
		t.Fatalf("valid templates: %v", err)
	}
	got, err := ok.RenderHeadline(format.SampleData(), "fallback")
	if err != nil || got != "FIRING ErrorRateHigh" {
		t.Errorf("RenderHeadline = %q, %v", got, err)
	}
}

func TestSince(t *testing.T) {
	start := time.Date(2025, 12, 11, 1, 54, 16, 0, time.UTC)
	for d, want := range map[time.Duration]string{
		45 * time.Second:                "45s",
		12*time.Minute + 20*time.Second: "12m",
		3 * time.Hour:                   "3h",
		3*time.Hour + 5*time.Minute:     "3h5m",
		52 * time.Hour:                  "2d4h",
		48 * time.Hour:                  "2d",
	} {
		if got := format.Since(start, start.Add(d)); got != want {
			t.Errorf("Since(%s) = %q, want %q", d, got, want)
		}
	}
}

// Marshal writes a payload the channels read as meant: "<", ">" and "&"
// as they are, control characters escaped, invalid UTF-8 as U+FFFD, map
// keys sorted, no newline after it.
func TestMarshal(t *testing.T) {
	got, err := format.Marshal(map[string]any{
		"text":   "a <b> & \"c\"\\ \x00\x1f\t\n ü 🚨 \xff",
		"labels": map[string]string{"z": "1", "a": "2", "m": "\t"},
		"n":      []float64{0.5, 25, 1e21, 1e-9},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"labels":{"a":"2","m":"\t","z":"1"},"n":[0.5,25,1e+21,1e-9],"text":"a <b> & \"c\"\\ \u0000\u001f\t\n ü 🚨 \ufffd"}`
	if string(got) != want {
		t.Errorf("Marshal:\n got %s\nwant %s", got, want)
	}
	if _, err := format.Marshal(math.NaN()); err == nil {
		t.Error("NaN marshalled; JSON has no NaN")
	}
}

// TestSilenceURLMatchesQueryEscape pins the hand-built link to what
// net/url makes of the same matchers, for label values that need escaping.
func TestSilenceURLMatchesQueryEscape(t *testing.T) {
	for _, labels := range []template.KV{
		{},
		{"alertname": "ErrorRateHigh", "instance": "app-001:8080", "job": "resonance"},
		{"alertname": "Disk", "mountpoint": "/var/lib/data dir", "q": `a"b\c`, "amp": "x&y=z+1?#%",
			"uni": "naïve ✓ \x00\x7f", "tilde": "-_.~", "long": strings.Repeat("é", 200)},
		{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5", "f": "6", "g": "7", "h": "8", "i": "9",
			"j": "10", "k": "11", "l": "12", "m": "13", "n": "14", "o": "15", "p": "16", "q": "17"},
	} {
		a := &template.Alert{Labels: labels}
		names := slices.Sorted(maps.Keys(labels))
		var matchers []string
		for _, k := range names {
			matchers = append(matchers, k+"="+strconv.Quote(labels[k]))
		}
		for _, ext := range []string{"http://alertmanager:9093", "https://am.example.org/prefix/"} {
			want := strings.TrimSuffix(ext, "/") + "/#/silences/new?filter=" + url.QueryEscape("{"+strings.Join(matchers, ",")+"}")
			if got := format.SilenceURL(ext, a); got != want {
				t.Errorf("SilenceURL(%q, %v)\n got %s\nwant %s", ext, labels, got, want)
			}
		}
		if got := format.SilenceURL("", a); got != "" {
			t.Errorf("SilenceURL without external URL = %q, want none", got)
		}
	}
}

func TestDistinguishing(t *testing.T) {
	a := template.Alert{Labels: template.KV{"alertname": "X", "severity": "critical", "job": "resonance",
		"instance": "app-2", "zone": "b", "device": "sda"}}
	b := template.Alert{Labels: template.KV{"alertname": "X", "severity": "critical", "job": "resonance",
		"instance": "app-1", "zone": "a", "device": "sda"}}
	data := &template.Data{Alerts: template.Alerts{a, b},
		CommonLabels: template.KV{"alertname": "X", "severity": "critical", "job": "resonance", "device": "sda"}}
	want := template.Pairs{{Name: "instance", Value: "app-2"}, {Name: "zone", Value: "b"}}
	if got := format.Distinguishing(data, &a); !slices.Equal(got, want) {
		t.Errorf("Distinguishing of several alerts = %v, want %v", got, want)
	}
	// Alone, an alert shows all its labels but alertname and severity.
	single := &template.Data{Alerts: template.Alerts{a}, CommonLabels: a.Labels}
	want = template.Pairs{{Name: "device", Value: "sda"}, {Name: "instance", Value: "app-2"},
		{Name: "job", Value: "resonance"}, {Name: "zone", Value: "b"}}
	if got := format.Distinguishing(single, &a); !slices.Equal(got, want) {
		t.Errorf("Distinguishing of one alert = %v, want %v", got, want)
	}
}

// An alert's identity is its fingerprint and start, whatever their length.
func TestIdentity(t *testing.T) {
	start := time.Date(2025, 12, 11, 1, 54, 16, 0, time.UTC)
	for _, c := range []struct {
		fp    string
		start time.Time
		want  string
	}{
		{"0f1c2d3e4b5a6978", start, "0f1c2d3e4b5a6978@1765418056"},
		{strings.Repeat("f", 60), start, strings.Repeat("f", 60) + "@1765418056"},
		{"a", time.Date(1969, 12, 31, 23, 59, 0, 0, time.UTC), "a@-60"},
	} {
		if got := format.Identity(&template.Alert{Fingerprint: c.fp, StartsAt: c.start}); got != c.want {
			t.Errorf("Identity(%q, %s) = %q, want %q", c.fp, c.start, got, c.want)
		}
	}
}

// An 80,000-digit current_value, the hostile case: one bounded pass
// (BENCHMARKS.md has the figure; the unbounded search took about 8 s).
func BenchmarkParseNumberHostile(b *testing.B) {
	s := strings.Repeat("9", 80000)
	for b.Loop() {
		format.ParseNumber(s)
	}
}

// A resolved alert's text says it is over, how long it lasted and what it
// was; its firing description alone would read as if it still held.
func TestDescriptionOfAResolvedAlert(t *testing.T) {
	start := time.Date(2026, 12, 2, 14, 0, 0, 0, time.UTC)
	a := &template.Alert{Status: format.StatusFiring, StartsAt: start,
		Annotations: template.KV{"description": "Error rate exceeded threshold: 21 errors/min (threshold: 20 errors/min)"}}
	if got := format.Description(a); got != a.Annotations["description"] {
		t.Errorf("firing: %q", got)
	}
	a.Status, a.EndsAt = format.StatusResolved, start.Add(12*time.Minute)
	if got, want := format.Description(a), "Resolved after 12m. While it fired: Error rate exceeded threshold: 21 errors/min (threshold: 20 errors/min)"; got != want {
		t.Errorf("resolved: %q, want %q", got, want)
	}
	a.EndsAt = time.Time{}
	a.Annotations = template.KV{}
	if got := format.Description(a); got != "Resolved." {
		t.Errorf("resolved without end or description: %q", got)
	}
}
