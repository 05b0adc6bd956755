package format

import (
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// Templates are a target's optional user templates, in Alertmanager's own
// template language: its functions, its default templates (e.g.
// {{ template "discord.default.title" . }}) and template.Data as the dot.
// An empty template keeps the built-in text.
//
// Headline renders once per notification (Discord content, Slack text).
// Title and Description render once per alert; their dot is a template.Data
// holding the group's labels and that one alert, so
// {{ (index .Alerts 0).Annotations.summary }} is the alert's summary.
type Templates struct {
	Headline    string `yaml:"headline"`
	Title       string `yaml:"title"`
	Description string `yaml:"description"`

	engine *template.Template
}

// Compile parses the templates and renders them once against a sample
// notification, so a typo fails at load rather than when an alert fires.
func (t *Templates) Compile() error {
	if t.Empty() {
		return nil
	}
	engine, err := template.FromGlobs(nil)
	if err != nil {
		return err
	}
	t.engine = engine
	sample := SampleData()
	for _, c := range []struct{ name, text string }{
		{"headline", t.Headline}, {"title", t.Title}, {"description", t.Description},
	} {
		if _, err := engine.ExecuteTextString(c.text, sample); err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return nil
}

// Empty reports whether no template is set.
func (t *Templates) Empty() bool {
	return t == nil || (t.Headline == "" && t.Title == "" && t.Description == "")
}

// RenderHeadline renders the headline template, or returns fallback when
// there is none.
func (t *Templates) RenderHeadline(data *template.Data, fallback string) (string, error) {
	if t == nil || t.Headline == "" {
		return fallback, nil
	}
	return t.engine.ExecuteTextString(t.Headline, data)
}

// RenderTitle renders the title template for one alert of data, or returns
// fallback.
func (t *Templates) RenderTitle(data *template.Data, a *template.Alert, fallback string) (string, error) {
	if t == nil || t.Title == "" {
		return fallback, nil
	}
	return t.engine.ExecuteTextString(t.Title, alone(data, a))
}

// RenderDescription renders the description template for one alert of data,
// or returns fallback.
func (t *Templates) RenderDescription(data *template.Data, a *template.Alert, fallback string) (string, error) {
	if t == nil || t.Description == "" {
		return fallback, nil
	}
	return t.engine.ExecuteTextString(t.Description, alone(data, a))
}

// alone is data narrowed to one alert.
func alone(data *template.Data, a *template.Alert) *template.Data {
	d := *data
	d.Alerts = template.Alerts{*a}
	d.Status = a.Status
	return &d
}

// SampleData is a notification shaped like our rule pack's, used to check
// templates at load.
func SampleData() *template.Data {
	labels := template.KV{"alertname": "ErrorRateHigh", "severity": SeverityWarning, "metric": "error_rate", "instance": "app:8080", "job": "resonance"}
	annotations := template.KV{
		"summary":       "Error rate high",
		"description":   "Error rate exceeded threshold: 25 errors/min (threshold: 5)",
		"runbook_url":   "https://example.org/runbooks#errorratehigh",
		"threshold":     "5",
		"current_value": "25",
	}
	return &template.Data{
		Receiver: "relay",
		Status:   StatusFiring,
		Alerts: template.Alerts{{
			Status:       StatusFiring,
			Labels:       labels,
			Annotations:  annotations,
			StartsAt:     time.Date(2025, 12, 11, 1, 54, 16, 0, time.UTC),
			GeneratorURL: "http://prometheus:9090/graph",
			Fingerprint:  "0000000000000000",
		}},
		GroupLabels:       template.KV{"alertname": "ErrorRateHigh"},
		CommonLabels:      labels,
		CommonAnnotations: annotations,
		RouteLabels:       template.KV{},
		ExternalURL:       "http://alertmanager:9093",
	}
}
