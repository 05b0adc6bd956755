// Package formattest holds the notifications the formatter and relay tests
// share — the plan's example alert, real Alertmanager v0.31.1 webhook bodies,
// and generated groups of any size —, fakes of Discord and Slack that know
// the services' limits themselves, and the golden-file helper behind
// `go test ./alertmanager/... -update`. It depends on format alone, never
// on the formatters it tests.
package formattest

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/golden"
)

// Real webhook bodies posted by Alertmanager v0.31.1 (host names changed),
// for the ErrorStorm rule: firing, then resolved.
var (
	//go:embed webhook-v4-firing.json
	FiringBody []byte
	//go:embed webhook-v4-resolved.json
	ResolvedBody []byte
)

// Decode parses a webhook body, failing the test on error.
func Decode(t testing.TB, body []byte) *template.Data {
	t.Helper()
	var d template.Data
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatalf("decoding webhook body: %v", err)
	}
	return &d
}

// PlanTime is the timestamp of the plan's example event.
var PlanTime = time.Date(2025, 12, 11, 1, 54, 16, 0, time.UTC)

// PlanAlert is the plan's example: error_rate at 25/min against a threshold
// of 5, critical, labelled and annotated as our rule pack does.
func PlanAlert() template.Alert {
	return template.Alert{
		Status: "firing",
		Labels: template.KV{
			"alertname": "ErrorRateHigh",
			"severity":  "critical",
			"metric":    "error_rate",
			"instance":  "app:8080",
			"job":       "resonance",
		},
		Annotations: template.KV{
			"summary":       "Error Rate Threshold Exceeded",
			"description":   "Error rate exceeded threshold: 25 errors/min (threshold: 5)",
			"runbook_url":   "https://github.com/quantum-resonance/telemetry/blob/main/docs/runbooks.md#errorratehigh",
			"threshold":     "5",
			"current_value": "25",
		},
		StartsAt:     PlanTime,
		GeneratorURL: "http://prometheus:9090/graph?g0.expr=resonance%3Aerror_rate%3Aper_minute+%3E+5",
		Fingerprint:  "c2a5d1f1a3c3a0f7",
	}
}

// PlanData is a notification carrying only PlanAlert.
func PlanData() *template.Data { return Group(PlanAlert()) }

// PlanResolved is the plan's alert, resolved 5 minutes later.
func PlanResolved() *template.Data {
	a := PlanAlert()
	a.Status = "resolved"
	a.EndsAt = PlanTime.Add(5 * time.Minute)
	return Group(a)
}

// Many is a notification of n distinct firing alerts of mixed severity.
func Many(n int) *template.Data {
	severities := []string{"critical", "warning", "info"}
	alerts := make([]template.Alert, n)
	for i := range alerts {
		a := PlanAlert()
		a.Labels = template.KV{
			"alertname": "ErrorRateHigh",
			"severity":  severities[i%len(severities)],
			"metric":    "error_rate",
			"instance":  fmt.Sprintf("app-%03d:8080", i),
			"job":       "resonance",
		}
		a.Fingerprint = fmt.Sprintf("%016x", i)
		a.StartsAt = PlanTime.Add(time.Duration(i) * time.Second)
		alerts[i] = a
	}
	return Group(alerts...)
}

// Group wraps alerts in a notification as Alertmanager builds it: status
// firing when any alert fires, and the labels all alerts share.
func Group(alerts ...template.Alert) *template.Data {
	d := &template.Data{
		Receiver:          "relay",
		Status:            "resolved",
		Alerts:            alerts,
		GroupLabels:       template.KV{"alertname": alerts[0].Labels["alertname"]},
		CommonLabels:      template.KV{},
		CommonAnnotations: template.KV{},
		RouteLabels:       template.KV{},
		ExternalURL:       "http://alertmanager:9093",
	}
	for _, a := range alerts {
		if a.Status == "firing" {
			d.Status = "firing"
		}
	}
	for k, v := range alerts[0].Labels {
		if all(alerts, func(a template.Alert) bool { return a.Labels[k] == v }) {
			d.CommonLabels[k] = v
		}
	}
	for k, v := range alerts[0].Annotations {
		if all(alerts, func(a template.Alert) bool { return a.Annotations[k] == v }) {
			d.CommonAnnotations[k] = v
		}
	}
	return d
}

func all(alerts []template.Alert, f func(template.Alert) bool) bool {
	for _, a := range alerts {
		if !f(a) {
			return false
		}
	}
	return true
}

// Defaults are the plan's service, environment and region, as the relay's
// example configuration sets them.
var Defaults = format.Defaults{Service: "quantum-resonance-api", Environment: "production", Region: "us-east-1"}

// New builds a formatter with newFormatter (discord.New, slack.New,
// hub.New), failing the test on error.
func New[O any, F format.Formatter](t testing.TB, newFormatter func(O) (F, error), opts O) F {
	t.Helper()
	f, err := newFormatter(opts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// CheckLimits fails the test for every message that limits (DiscordLimits,
// SlackLimits) refuses, as the channel would.
func CheckLimits(t testing.TB, msgs []format.Message, limits func(body []byte) (int, string)) {
	t.Helper()
	for i, m := range msgs {
		if status, reply := limits(m.Body); status >= 300 {
			t.Errorf("message %d breaks the channel's limits: %d %s", i, status, reply)
		}
	}
}

// Format formats data with f and decodes every message body as T, failing
// the test on either error.
func Format[T any](t testing.TB, f format.Formatter, data *template.Data, groupKey string) ([]format.Message, []T) {
	t.Helper()
	msgs, err := f.Format(context.Background(), data, groupKey)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]T, len(msgs))
	for i, m := range msgs {
		CheckBody(t, m.Body, &out[i])
	}
	return msgs, out
}

// GoldenFormat formats the notifications every channel's golden files show
// — the plan's example firing and resolved, and Alertmanager's real firing
// body — with f, hands each result to check (the channel's own limits; nil
// for none) and compares it with testdata/<name> (see Golden).
func GoldenFormat(t *testing.T, f format.Formatter, groupKey string, check func(testing.TB, []format.Message)) {
	t.Helper()
	for name, data := range map[string]*template.Data{
		"plan-firing.json":            PlanData(),
		"plan-resolved.json":          PlanResolved(),
		"alertmanager-v4-firing.json": Decode(t, FiringBody),
	} {
		t.Run(name, func(t *testing.T) {
			msgs, err := f.Format(context.Background(), data, groupKey)
			if err != nil {
				t.Fatal(err)
			}
			if check != nil {
				check(t, msgs)
			}
			Golden(t, name, msgs)
		})
	}
	// The relay formats under the notification's deadline: once it has
	// passed, formatting stops rather than finish work nobody waits for.
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if msgs, err := f.Format(ctx, Many(3), groupKey); !errors.Is(err, context.Canceled) {
			t.Errorf("Format under a cancelled context: %d messages, err %v; want context.Canceled", len(msgs), err)
		}
	})
}

// Golden compares the message bodies, indented but otherwise exactly as
// posted, with testdata/<name>; with -update it writes the file instead.
// Review the diff of a rewritten golden file before committing it: it is
// the channel's contract.
func Golden(t *testing.T, name string, msgs []format.Message) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, m := range msgs {
		b.WriteString("  ")
		if err := json.Indent(&b, m.Body, "  ", "  "); err != nil {
			t.Fatalf("message %d is not JSON: %v", i, err)
		}
		if i < len(msgs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	path := filepath.Join("testdata", name)
	if golden.Updating() {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test with -update to create it)", err)
	}
	if !bytes.Equal(want, b.Bytes()) {
		t.Errorf("%s differs from the output (run go test -update and review the diff):\n--- want\n%s\n--- got\n%s", path, want, b.Bytes())
	}
}

// Bodies decodes each message body into a generic JSON value, for golden
// files and assertions.
func Bodies(t testing.TB, bodies ...[]byte) []any {
	t.Helper()
	out := make([]any, len(bodies))
	for i, b := range bodies {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatalf("message %d is not JSON: %v\n%s", i, err, b)
		}
	}
	return out
}

// ByInstance is a notification of n firing alerts that differ only by their
// instance label, as one rule matching n hosts sends them: the same
// startsAt (Prometheus evaluates them at once), the same annotations, and
// Alertmanager's fingerprints of their labels.
func ByInstance(n int) *template.Data {
	alerts := make([]template.Alert, n)
	for i := range alerts {
		a := PlanAlert()
		a.Labels = template.KV{}
		for k, v := range PlanAlert().Labels {
			a.Labels[k] = v
		}
		a.Labels["instance"] = fmt.Sprintf("app-%02d:8080", i)
		ls := model.LabelSet{}
		for k, v := range a.Labels {
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		a.Fingerprint = ls.Fingerprint().String()
		alerts[i] = a
	}
	return Group(alerts...)
}

// Resolve returns data with every alert resolved at endsAt.
func Resolve(data *template.Data, endsAt time.Time) *template.Data {
	alerts := make([]template.Alert, len(data.Alerts))
	for i, a := range data.Alerts {
		a.Status = "resolved"
		a.EndsAt = endsAt
		alerts[i] = a
	}
	d := Group(alerts...)
	d.GroupLabels = data.GroupLabels
	return d
}

// BenchmarkFormat measures a formatter on notifications of 1 and 30 alerts,
// reporting alerts formatted per second; every formatter's BenchmarkFormat
// calls it so their figures compare.
func BenchmarkFormat(b *testing.B, f format.Formatter) {
	for _, n := range []int{1, 30} {
		data := Many(n)
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Format(context.Background(), data, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}
