package relay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/channel"
)

// notification is Alertmanager's webhook payload (version 4): template.Data
// plus the fields only the webhook carries.
type notification struct {
	template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// decodeNotification reads one webhook payload and checks that it is one:
// the errors say what is wrong, for the 400 answer.
func decodeNotification(r io.Reader) (*notification, error) {
	var n notification
	dec := json.NewDecoder(r)
	if err := dec.Decode(&n); err != nil {
		if isMaxBytes(err) {
			return nil, err
		}
		return nil, fmt.Errorf("not an Alertmanager webhook payload: invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if isMaxBytes(err) {
			return nil, err
		}
		return nil, errors.New("not an Alertmanager webhook payload: data after the JSON object")
	}
	switch {
	case n.Version == "":
		return nil, errors.New(`not an Alertmanager webhook payload: no "version"`)
	case n.Version != "4":
		return nil, fmt.Errorf(`unsupported payload version %q: the relay reads Alertmanager's version "4"`, n.Version)
	case len(n.Alerts) == 0:
		return nil, errors.New(`"alerts": the notification carries no alert`)
	}
	for i := range n.Alerts {
		if s := n.Alerts[i].Status; s != channel.StatusFiring && s != channel.StatusResolved {
			return nil, fmt.Errorf(`"alerts[%d].status": %q is neither firing nor resolved`, i, s)
		}
	}
	return &n, nil
}

// isMaxBytes reports whether err is http.MaxBytesReader's "too large",
// which the handler answers with 413 rather than 400.
func isMaxBytes(err error) bool {
	var tooLarge *http.MaxBytesError
	return errors.As(err, &tooLarge)
}
