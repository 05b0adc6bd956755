package relay

import (
	"slices"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a notification, the outcome label of
// resonance_relay_notifications_total and its duration histogram.
const (
	outcomeDelivered   = "delivered"    // every message reached the channel
	outcomeFailed      = "failed"       // some message did not; answered 5xx
	outcomeRejected    = "rejected"     // the channel refused for good; answered 422
	outcomeFormatError = "format_error" // a user template failed; answered 500
)

// notificationOutcomes is every outcome a notification can have, in the
// order of the HELP text: each configured target has all of them from the
// start and after a reload, at 0, so that increase() sees the first
// failure after a restart. count refuses any other value.
var notificationOutcomes = [...]string{outcomeDelivered, outcomeFailed, outcomeRejected, outcomeFormatError}

// Outcomes of one message.
const (
	messageDelivered = "delivered"
	messageDuplicate = "duplicate" // delivered before, not sent again
	messageRejected  = "rejected"  // 4xx from the channel
	messageFailed    = "failed"    // retries exhausted within the deadline
)

// Reasons a request was refused before any delivery.
const (
	rejectMethod        = "method"
	rejectUnauthorized  = "unauthorized"
	rejectUnknownTarget = "unknown_target"
	rejectTooLarge      = "too_large"
	rejectBadPayload    = "bad_payload"
	rejectOverloaded    = "overloaded" // webhook.max_concurrent_requests reached
)

// Latency buckets from a local sink (sub-millisecond) to the deadline.
var durationBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

type metrics struct {
	notifications        *prometheus.CounterVec
	notificationDuration *prometheus.HistogramVec
	messages             *prometheus.CounterVec
	messageDuration      *prometheus.HistogramVec
	attempts             *prometheus.CounterVec
	alerts               *prometheus.CounterVec
	rejected             *prometheus.CounterVec
	truncated            *prometheus.CounterVec
	storeDamaged         prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, dedupEntries func() float64) *metrics {
	m := &metrics{
		notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_relay_notifications_total",
			Help: "Alertmanager notifications handled, by target and outcome (delivered, failed, rejected, format_error); every target has every outcome from the start.",
		}, []string{"target", "outcome"}),
		notificationDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resonance_relay_notification_duration_seconds",
			Help:    "Time from receiving a notification to answering Alertmanager, by target and outcome.",
			Buckets: durationBuckets,
		}, []string{"target", "outcome"}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_relay_messages_total",
			Help: "Channel messages, by target and outcome (delivered, duplicate, rejected, failed).",
		}, []string{"target", "outcome"}),
		messageDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "resonance_relay_message_delivery_duration_seconds",
			Help:    "Time to deliver one message, retries included, by target and outcome.",
			Buckets: durationBuckets,
		}, []string{"target", "outcome"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_relay_delivery_attempts_total",
			Help: "HTTP requests to channels, by target and result (success, rate_limited, server_error, client_error, network_error).",
		}, []string{"target", "result"}),
		alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_relay_alerts_total",
			Help: "Alerts received, by target and status (firing, resolved).",
		}, []string{"target", "status"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_relay_truncated_total",
			Help: "Texts of delivered messages cut to the channel's limits, by target and payload field; unsafe_link counts links left out because their URL is not an http(s) URL; annotation counts annotations cut to the channel's longest text before formatting.",
		}, []string{"target", "field"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "resonance_relay_webhook_requests_rejected_total",
			Help: "Webhook requests refused before delivery, by reason (method, unauthorized, unknown_target, too_large, bad_payload, overloaded).",
		}, []string{"reason"}),
	}
	m.storeDamaged = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "resonance_relay_message_store_damaged_total",
		Help: "Loads of delivery.messages_file that found it damaged (cut short, empty, entries that are no message) and kept only its valid entries.",
	})
	reg.MustRegister(m.notifications, m.notificationDuration, m.messages, m.messageDuration, m.attempts, m.alerts, m.rejected, m.truncated, m.storeDamaged,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "resonance_relay_dedup_entries",
			Help: "Delivered messages remembered to avoid sending them again when Alertmanager retries.",
		}, dedupEntries))
	for _, r := range []string{rejectMethod, rejectUnauthorized, rejectUnknownTarget, rejectTooLarge, rejectBadPayload, rejectOverloaded} {
		m.rejected.WithLabelValues(r)
	}
	return m
}

// initTarget exposes the notification counter of a configured target at 0
// for every outcome. Apply calls it at the start and on every reload.
func (m *metrics) initTarget(target string) {
	for _, o := range notificationOutcomes {
		m.notifications.WithLabelValues(target, o)
	}
}

// notified is the notification counter of target and outcome. An outcome
// outside notificationOutcomes is a bug (its series would not exist from
// the start), caught by any test that reaches it.
func (m *metrics) notified(target, outcome string) prometheus.Counter {
	if !slices.Contains(notificationOutcomes[:], outcome) {
		panic("relay: notification outcome " + outcome + " is not in notificationOutcomes")
	}
	return m.notifications.WithLabelValues(target, outcome)
}

// forget drops the series of a target removed by a reload.
func (m *metrics) forget(target string) {
	l := prometheus.Labels{"target": target}
	m.notifications.DeletePartialMatch(l)
	m.notificationDuration.DeletePartialMatch(l)
	m.messages.DeletePartialMatch(l)
	m.messageDuration.DeletePartialMatch(l)
	m.attempts.DeletePartialMatch(l)
	m.alerts.DeletePartialMatch(l)
	m.truncated.DeletePartialMatch(l)
}
