package relay

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
)

// notification is Alertmanager's webhook payload (version 4): template.Data
// plus the fields only the webhook carries.
type notification struct {
	template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// bodies are reusable buffers for webhook bodies: reading a body whole
// into one is cheaper than a json.Decoder growing its own for each request.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// decodeNotification reads one webhook payload and checks that it is one:
// the errors say what is wrong, for the 400 answer.
func decodeNotification(r io.Reader) (*notification, error) {
	buf := bodies.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 1<<20 { // a rare huge body is not kept
			buf.Reset()
			bodies.Put(buf)
		}
	}()
	if _, err := buf.ReadFrom(r); err != nil {
		if isMaxBytes(err) {
			return nil, err
		}
		return nil, fmt.Errorf("not an Alertmanager webhook payload: %w", err)
	}
	var n notification
	if err := decodeWebhook(buf.Bytes(), &n); err != nil {
		if errors.Is(err, errDataAfter) {
			return nil, errors.New("not an Alertmanager webhook payload: data after the JSON object")
		}
		return nil, fmt.Errorf("not an Alertmanager webhook payload: invalid JSON: %w", err)
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
		if s := n.Alerts[i].Status; s != format.StatusFiring && s != format.StatusResolved {
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
