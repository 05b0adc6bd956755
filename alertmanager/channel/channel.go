// Package channel holds what every channel formatter shares: the Formatter
// interface the relay calls, the Message it gets back, and the small helpers
// that read our rule pack's labels and annotations and keep text within a
// channel's limits.
//
// Each channel lives in its own package (discord, slack, hub) with the same
// shape, as in Alertmanager's notify/ tree: a New(Options) constructor and a
// Format method that turns one webhook notification into as many messages as
// the channel's limits require, never dropping an alert.
package channel

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
)

// Message is one request body to post to a channel.
type Message struct {
	Body   []byte // the JSON payload, exactly as posted
	Alerts int    // how many alerts it carries, for the relay's metrics
}

// Formatter turns an Alertmanager notification into channel messages.
type Formatter interface {
	Format(data *template.Data) ([]Message, error)
}

// Defaults describe the service the alerts are about, for the fields and
// metadata the alerts themselves do not carry.
type Defaults struct {
	Service     string `yaml:"service"`
	Environment string `yaml:"environment"`
	Region      string `yaml:"region"`
}

// Alert statuses and the severities of the rule pack.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"

	SeverityCritical = "critical"
	SeverityWarning  = "warning"
	SeverityInfo     = "info"
)

// Ellipsis marks text cut to fit a limit.
const Ellipsis = "…"

// Truncate cuts s to at most max runes, ending with Ellipsis when cut.
// Discord and Slack count characters, not bytes; counting runes never splits
// a UTF-8 sequence (Alertmanager's notify.TruncateInRunes does the same).
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if len(s) <= max || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return s[:i] + Ellipsis
		}
		n++
	}
	return s
}

// Len is the length of s in runes, as the channels count it.
func Len(s string) int { return utf8.RuneCountInString(s) }

// Severity returns the alert's severity label, lower-cased.
func Severity(a *template.Alert) string {
	return strings.ToLower(a.Labels["severity"])
}

// Title is what an alert is called in a message: its summary annotation,
// else its alertname.
func Title(a *template.Alert) string {
	if s := a.Annotations["summary"]; s != "" {
		return s
	}
	if n := a.Labels["alertname"]; n != "" {
		return n
	}
	return "Alert"
}

// Description is the alert's description annotation, else its summary.
func Description(a *template.Alert) string {
	if d := a.Annotations["description"]; d != "" {
		return d
	}
	return a.Annotations["summary"]
}

// EventTime is when the alert's current state began: startsAt while firing,
// endsAt once resolved.
func EventTime(a *template.Alert) time.Time {
	if a.Status == StatusResolved && !a.EndsAt.IsZero() {
		return a.EndsAt
	}
	return a.StartsAt
}

// FormatTime renders t as RFC 3339 in UTC at second precision, the seed's
// timestamp format.
func FormatTime(t time.Time) string {
	return t.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// ServiceOf is the alert's service label, else the configured default.
func (d Defaults) ServiceOf(a *template.Alert) string {
	if s := a.Labels["service"]; s != "" {
		return s
	}
	return d.Service
}

// ParseNumber reads the leading decimal number of an annotation such as
// "25", "85%", "2500ms" or "1.5e3 B". ok is false when s does not start with
// one; callers keep the text and report no number.
func ParseNumber(s string) (v float64, ok bool) {
	s = strings.TrimSpace(s)
	end := 0
	for end < len(s) && strings.IndexByte("0123456789.+-eE", s[end]) >= 0 {
		end++
	}
	// The longest prefix that parses: "85e" in "85eur" is not a number but
	// "85" is.
	for ; end > 0; end-- {
		if v, err := strconv.ParseFloat(s[:end], 64); err == nil {
			return v, true
		}
	}
	return 0, false
}

// HighestSeverity is the most urgent severity among the alerts, critical
// first; "" when none carries a known one.
func HighestSeverity(alerts []*template.Alert) string {
	rank := map[string]int{SeverityCritical: 3, SeverityWarning: 2, SeverityInfo: 1}
	best := ""
	for _, a := range alerts {
		if s := Severity(a); rank[s] > rank[best] {
			best = s
		}
	}
	return best
}

// Pointers returns pointers to the alerts of data, in order, so formatters
// can pass them around without copying.
func Pointers(data *template.Data) []*template.Alert {
	out := make([]*template.Alert, len(data.Alerts))
	for i := range data.Alerts {
		out[i] = &data.Alerts[i]
	}
	return out
}

// Marshal encodes a payload as JSON without Go's HTML escaping: the channels
// read "<url|text>" and "&" literally, and \u003c only hides them from
// whoever reads the payload.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
