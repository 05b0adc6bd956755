package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/version"
)

func init() { register(setupSendTest) }

// testAlertName is the alertname of every test notification, so that a
// channel's reader (and a silence) can tell it from a real alert.
const testAlertName = "ResonanceTestNotification"

// maxAnswerBytes bounds how much of the relay's answer is read.
const maxAnswerBytes = 64 << 10

// setupSendTest adds "send-test": one Alertmanager-shaped notification
// posted to a relay target, so an operator sees the exact message in the
// channel before an incident.
func setupSendTest(app *kingpin.Application, stdout io.Writer) {
	cmd := app.Command("send-test", "Post a test notification, shaped exactly like Alertmanager's webhook, to a relay target.")
	relayURL := cmd.Flag("relay", "The relay's base URL, e.g. http://localhost:9862.").Required().URL()
	target := cmd.Flag("target", "The relay target (its config's targets[].name), e.g. discord.").Required().String()
	severity := cmd.Flag("severity", "The test alert's severity.").Default("warning").Enum("critical", "warning", "info")
	resolved := cmd.Flag("resolved", "Send the notification of the alert resolving instead of firing.").Bool()
	tokenFile := cmd.Flag("token-file", "A file holding the bearer token the relay requires (its auth.bearer_token_file).").ExistingFile()
	service := cmd.Flag("service", "The service label of the test alert.").Default("quantum-resonance-api").String()
	timeout := cmd.Flag("timeout", "How long to wait for the relay's answer (its delivery deadline plus margin).").Default("30s").Duration()
	cmd.Action(func(*kingpin.ParseContext) error {
		var token string
		if *tokenFile != "" {
			b, err := os.ReadFile(*tokenFile)
			if err != nil {
				return err
			}
			token = strings.TrimSpace(string(b))
		}
		n := testNotification(*severity, *service, *resolved, time.Now())
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		defer cancel()
		return sendTest(ctx, http.DefaultClient, *relayURL, *target, token, n, stdout)
	})
}

// webhookMessage is Alertmanager's webhook payload, version 4.
type webhookMessage struct {
	*template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`
}

// testNotification builds what Alertmanager would send for a test alert.
// The group key carries the send time, so the relay's memory of delivered
// messages never swallows a second test.
func testNotification(severity, service string, resolved bool, now time.Time) webhookMessage {
	now = now.UTC()
	labels := model.LabelSet{
		"alertname": testAlertName,
		"severity":  model.LabelValue(severity),
		"service":   model.LabelValue(service),
		"instance":  "resonancetool",
		"metric":    "test_notification",
	}
	host, _ := os.Hostname()
	alert := template.Alert{
		Status: string(model.AlertFiring),
		Labels: kv(labels),
		Annotations: template.KV{
			"summary":     "Test notification from resonancetool send-test",
			"description": fmt.Sprintf("Test notification sent by resonancetool from %s at %s: if you read this, alerts reach this channel. No action needed.", host, now.Format(time.RFC3339)),
		},
		StartsAt:    now,
		Fingerprint: labels.Fingerprint().String(),
	}
	if resolved {
		alert.Status = string(model.AlertResolved)
		alert.StartsAt = now.Add(-5 * time.Minute)
		alert.EndsAt = now
	}
	data := &template.Data{
		Receiver:          "send-test",
		Status:            alert.Status,
		Alerts:            template.Alerts{alert},
		GroupLabels:       template.KV{"alertname": testAlertName},
		CommonLabels:      alert.Labels,
		CommonAnnotations: alert.Annotations,
	}
	return webhookMessage{
		Data:     data,
		Version:  "4",
		GroupKey: fmt.Sprintf(`{}/send-test/%d:{alertname=%q}`, now.UnixNano(), testAlertName),
	}
}

func kv(ls model.LabelSet) template.KV {
	out := template.KV{}
	for k, v := range ls {
		out[string(k)] = string(v)
	}
	return out
}

// sendTest posts n to the relay's /webhook/<target> and prints the relay's
// answer. Anything but 2xx is an error naming the status and the relay's
// reason; the token never appears in the output.
func sendTest(ctx context.Context, client *http.Client, relayURL *url.URL, target, token string, n webhookMessage, stdout io.Writer) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	endpoint := relayURL.JoinPath("webhook", target)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "resonancetool/"+version.Version)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL is printed once, below
		}
		return fmt.Errorf("POST %s: %w", endpoint.Redacted(), err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("POST %s: reading the answer: %w", endpoint.Redacted(), err)
	}
	answer = bytes.TrimSpace(answer)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", endpoint.Redacted(), resp.Status, answer)
	}
	fmt.Fprintf(stdout, "sent a %s %s test notification to target %s via %s: %s\n%s\n",
		n.Alerts[0].Labels["severity"], n.Status, target, endpoint.Redacted(), resp.Status, answer)
	return nil
}
