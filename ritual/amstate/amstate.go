// Package amstate reads what Alertmanager knows now, for the morning review:
// the active silences, and which firing alerts it suppresses (silenced or
// inhibited), through Alertmanager's API v2 client.
package amstate

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
)

// Silence is an active silence.
type Silence struct {
	ID        string    `json:"id"`
	Matchers  string    `json:"matchers"` // {alertname="HighCPU",instance=~"app.*"}
	CreatedBy string    `json:"created_by"`
	Comment   string    `json:"comment"`
	EndsAt    time.Time `json:"ends_at"`
}

// State is Alertmanager's view at one moment.
type State struct {
	Silences []Silence
	// Suppressed maps an alertname to why Alertmanager holds it back
	// ("silenced", "inhibited").
	Suppressed map[string]string
}

// Client reads one Alertmanager.
type Client struct {
	api *amclient.AlertmanagerAPI
}

// New returns a client for the Alertmanager at rawURL (http://host:9093).
func New(rawURL string) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("alertmanager URL %q: want http(s)://host:port", rawURL)
	}
	cfg := amclient.DefaultTransportConfig().
		WithHost(u.Host).
		WithBasePath(path.Join("/", u.Path, amclient.DefaultBasePath)).
		WithSchemes([]string{u.Scheme})
	return &Client{api: amclient.NewHTTPClientWithConfig(nil, cfg)}, nil
}

// Read returns the active silences and the suppressed alerts.
func (c *Client) Read(ctx context.Context) (*State, error) {
	sil, err := c.api.Silence.GetSilences(silence.NewGetSilencesParamsWithContext(ctx))
	if err != nil {
		return nil, fmt.Errorf("alertmanager silences: %w", err)
	}
	st := &State{Suppressed: map[string]string{}}
	for _, s := range sil.Payload {
		if s == nil || s.Status == nil || s.Status.State == nil || *s.Status.State != models.SilenceStatusStateActive {
			continue
		}
		st.Silences = append(st.Silences, Silence{
			ID:        deref(s.ID),
			Matchers:  matchers(s.Matchers),
			CreatedBy: deref(s.CreatedBy),
			Comment:   deref(s.Comment),
			EndsAt:    time.Time(deref(s.EndsAt)),
		})
	}
	slices.SortFunc(st.Silences, func(a, b Silence) int { return a.EndsAt.Compare(b.EndsAt) })
	active, silenced, inhibited := true, true, true
	params := alert.NewGetAlertsParamsWithContext(ctx)
	params.Active, params.Silenced, params.Inhibited = &active, &silenced, &inhibited
	alerts, err := c.api.Alert.GetAlerts(params)
	if err != nil {
		return nil, fmt.Errorf("alertmanager alerts: %w", err)
	}
	for _, a := range alerts.Payload {
		if a == nil || a.Status == nil {
			continue
		}
		name := a.Labels["alertname"]
		switch {
		case len(a.Status.SilencedBy) > 0:
			st.Suppressed[name] = "silenced"
		case len(a.Status.InhibitedBy) > 0:
			st.Suppressed[name] = "inhibited"
		}
	}
	return st, nil
}

func matchers(ms models.Matchers) string {
	parts := make([]string, 0, len(ms))
	for _, m := range ms {
		if m == nil {
			continue
		}
		op := "="
		isEqual := m.IsEqual == nil || *m.IsEqual
		switch {
		case deref(m.IsRegex) && isEqual:
			op = "=~"
		case deref(m.IsRegex):
			op = "!~"
		case !isEqual:
			op = "!="
		}
		parts = append(parts, fmt.Sprintf("%s%s%q", deref(m.Name), op, deref(m.Value)))
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}
