// Package heartbeat is the relay's dead man's switch target: every
// notification it receives (Alertmanager repeats the always-firing Watchdog
// every minute or so) becomes one ping to a healthchecks-style URL outside
// the alerting chain. When Prometheus, Alertmanager, the relay or the network
// between them stops, the pings stop, and the outside service raises the
// alarm that nothing inside the chain can raise about itself.
package heartbeat

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// Ping is the body of one ping. Healthchecks.io and its kin accept any body
// (they keep it as the ping's log). Each ping is its own message: the
// relay's memory of delivered messages never takes a repeat for a retry.
type Ping struct {
	Status   string    `json:"status"`
	Alerts   int       `json:"alerts"`
	Receiver string    `json:"receiver"`
	SentAt   time.Time `json:"sent_at"`
}

// Formatter turns a notification into one ping. It has no templates: the
// ping carries no alert text.
type Formatter struct {
	now func() time.Time
}

// New returns a Formatter.
func New() *Formatter { return &Formatter{now: time.Now} }

// Format returns exactly one message, whatever the notification holds. Its
// identity is the ping's time, not the Watchdog's: the relay remembers
// delivered messages by the identities they carry, and every repeat of the
// Watchdog must ping.
func (f *Formatter) Format(_ context.Context, data *template.Data, _ string) ([]format.Message, error) {
	now := f.now().UTC()
	body, err := json.Marshal(Ping{Status: data.Status, Alerts: len(data.Alerts), Receiver: data.Receiver, SentAt: now})
	if err != nil {
		return nil, err
	}
	return []format.Message{{Body: body, Alerts: []string{"ping@" + now.Format(time.RFC3339Nano)}}}, nil
}
