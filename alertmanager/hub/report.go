package hub

import (
	"encoding/json"
	"time"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// ReportEvent is a ritual's report as a hub event: event_type
// "report.<ritual>" and the report's JSON contract as its body.
type ReportEvent struct {
	EventType string          `json:"event_type"`
	Timestamp string          `json:"timestamp"`
	Message   string          `json:"message"`
	Metadata  Metadata        `json:"metadata"`
	Report    json.RawMessage `json:"report"`
}

// FormatReport implements format.ReportFormatter: one event.
func (f *Formatter) FormatReport(r *format.Report) ([]format.Post, error) {
	body, err := format.Marshal(ReportEvent{
		EventType: "report." + r.Ritual,
		Timestamp: format.Time(time.Now()),
		Message:   r.Title,
		Metadata:  Metadata{Service: f.opts.Defaults.Service, Environment: f.opts.Defaults.Environment, Region: f.opts.Defaults.Region},
		Report:    json.RawMessage(r.JSON),
	})
	if err != nil {
		return nil, err
	}
	return []format.Post{{Body: body}}, nil
}
