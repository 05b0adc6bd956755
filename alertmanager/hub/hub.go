// Package hub formats Alertmanager notifications as the plan's custom JSON
// event: one event per alert, posted to the telemetry hub's /api/alerts.
package hub

import (
	"context"
	"fmt"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// Event types of the plan.
const (
	EventTriggered = "alert.triggered"
	EventResolved  = "alert.resolved"
)

// Event is the plan's webhook event, field for field.
type Event struct {
	EventType string `json:"event_type"`
	Severity  string `json:"severity"`
	Timestamp string `json:"timestamp"` // RFC 3339: startsAt when firing, endsAt when resolved
	Metric    string `json:"metric"`
	// CurrentValue and Threshold are the leading numbers of the annotations
	// ("85%" is 85), null when an annotation holds no number; its text stays
	// in Message.
	CurrentValue *float64 `json:"current_value"`
	Threshold    *float64 `json:"threshold"`
	Message      string   `json:"message"`
	Metadata     Metadata `json:"metadata"`

	// The alert's identity, beyond the plan's fields: without it two
	// alerts differing only by instance would be the same event.
	AlertName    string            `json:"alertname"`
	Fingerprint  string            `json:"fingerprint"`
	Labels       map[string]string `json:"labels"`
	StartsAt     string            `json:"starts_at"`
	EndsAt       string            `json:"ends_at,omitempty"` // only once resolved
	GeneratorURL string            `json:"generator_url,omitempty"`
	SilenceURL   string            `json:"silence_url,omitempty"`
	DashboardURL string            `json:"dashboard_url,omitempty"` // with defaults.grafana_url
	GroupKey     string            `json:"group_key,omitempty"`
}

// Metadata names the service, from the relay's defaults.
type Metadata struct {
	Service     string `json:"service"`
	Environment string `json:"environment"`
	Region      string `json:"region"`
}

// Options configure the formatter. Only the description template applies:
// it replaces the message.
type Options struct {
	Defaults  format.Defaults
	Templates *format.Templates
}

// Formatter builds hub events.
type Formatter struct{ opts Options }

// New returns a formatter; the templates must already be compiled.
func New(opts Options) (*Formatter, error) { return &Formatter{opts: opts}, nil }

// MaxText bounds each annotation of a hub event: the hub is the operator's
// own endpoint, with no documented limit, but a description or runbook
// link longer than this is no text a person reads.
const MaxText = 16 << 10

// MaxText implements format.TextLimited.
func (f *Formatter) MaxText() int { return MaxText }

// TruncatableFields implements format.Truncating.
func (f *Formatter) TruncatableFields() []string { return []string{format.FieldAnnotation} }

// Format implements format.Formatter: one message per alert.
func (f *Formatter) Format(ctx context.Context, data *template.Data, groupKey string) ([]format.Message, error) {
	out := make([]format.Message, 0, len(data.Alerts))
	for _, a := range format.Pointers(data) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ev, err := f.event(data, a, groupKey)
		if err != nil {
			return nil, err
		}
		body, err := format.Marshal(ev)
		if err != nil {
			return nil, fmt.Errorf("hub event: %w", err)
		}
		out = append(out, format.Message{Body: body, Alerts: []string{format.Identity(a)}})
	}
	return out, nil
}

func (f *Formatter) event(data *template.Data, a *template.Alert, groupKey string) (Event, error) {
	message, err := f.opts.Templates.RenderDescription(data, a, format.Description(a))
	if err != nil {
		return Event{}, fmt.Errorf("description template: %w", err)
	}
	ev := Event{
		EventType:    EventTriggered,
		Severity:     format.Severity(a),
		Timestamp:    format.Time(format.EventTime(a)),
		Metric:       a.Labels["metric"],
		CurrentValue: number(a.Annotations["current_value"]),
		Threshold:    number(a.Annotations["threshold"]),
		Message:      message,
		Metadata: Metadata{
			Service:     f.opts.Defaults.ServiceOf(a),
			Environment: f.opts.Defaults.Environment,
			Region:      f.opts.Defaults.Region,
		},
		AlertName:    a.Labels["alertname"],
		Fingerprint:  a.Fingerprint,
		Labels:       a.Labels,
		StartsAt:     format.Time(a.StartsAt),
		GeneratorURL: a.GeneratorURL,
		SilenceURL:   format.SilenceURL(data.ExternalURL, a),
		DashboardURL: f.opts.Defaults.DashboardURL(a),
		GroupKey:     groupKey,
	}
	if a.Status == format.StatusResolved {
		ev.EventType = EventResolved
		ev.EndsAt = format.Time(a.EndsAt)
	}
	if ev.Metric == "" {
		ev.Metric = a.Labels["alertname"]
	}
	return ev, nil
}

func number(s string) *float64 {
	if v, ok := format.ParseNumber(s); ok {
		return &v
	}
	return nil
}
