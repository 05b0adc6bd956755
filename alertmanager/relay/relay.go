// Package relay is the Alertmanager webhook receiver: POST /webhook/{target}
// decodes the notification, the target's formatter (discord, slack, hub)
// turns it into messages within the channel's limits, and each message is
// delivered with retries within a deadline. Alertmanager gets 2xx only when
// every message reached the channel, so it retries whatever did not; the
// messages already delivered are remembered briefly and not sent twice.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	commonconfig "github.com/prometheus/common/config"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/relay/statefile"
	"github.com/quantum-resonance/telemetry/daemon"
	"github.com/quantum-resonance/telemetry/httpretry"
)

// Relay serves /webhook/{target}. Apply swaps its configuration atomically:
// requests in flight finish with the targets they started with.
type Relay struct {
	logger  *slog.Logger
	metrics *metrics

	state atomic.Pointer[state]

	mu        sync.Mutex // serialises Apply
	delivered atomic.Pointer[delivered]
	sent      atomic.Pointer[statefile.Store] // the state file: Discord message ids, for edits
	pacers    pacers
	workers   workers // run a parallel target's messages
	// inFlight counts the notifications being read and delivered, against
	// webhook.max_concurrent_requests.
	inFlight atomic.Int64
}

// state is everything one configuration gives the handler.
type state struct {
	cfg     *Config
	auth    *authenticator
	targets map[string]*target
}

// target is one configured destination, ready to use.
type target struct {
	name      string
	formatter format.Formatter
	sink      sink
	client    *http.Client // nil for files; closed when replaced
	// parallel is how many messages of one notification go out at once.
	// Discord and Slack get 1: the parts of a split notification must
	// arrive in order, and they rate-limit per webhook. Hub events are one
	// independent request per alert.
	parallel int
	// editor, when set, plans and sends messages that may edit earlier
	// ones (Discord's on_resolve).
	editor *editor
}

// New returns a relay running cfg, with its metrics registered on reg.
func New(cfg *Config, logger *slog.Logger, reg prometheus.Registerer) (*Relay, error) {
	r := &Relay{logger: logger, workers: newWorkers(maxIdleWorkers)}
	r.metrics = newMetrics(reg, func() float64 {
		if d := r.delivered.Load(); d != nil {
			return float64(d.Len())
		}
		return 0
	})
	if err := r.Apply(cfg); err != nil {
		return nil, err
	}
	return r, nil
}

// Apply builds the targets of cfg and switches to them. On error the running
// configuration stays.
func (r *Relay) Apply(cfg *Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.openStore(cfg); err != nil {
		return err
	}
	next := &state{cfg: cfg, auth: newAuthenticator(cfg.Auth, r.logger), targets: map[string]*target{}}
	for i := range cfg.Targets {
		t, err := r.newTarget(cfg, &cfg.Targets[i])
		if err != nil {
			return fmt.Errorf("targets[%d] (%s): %w", i, cfg.Targets[i].Name, err)
		}
		next.targets[t.name] = t
	}

	paced := map[string]bool{}
	for _, t := range cfg.Targets {
		if t.Type == TypeDiscord {
			paced[t.url] = true
		}
	}
	r.pacers.keep(paced)

	prev := r.state.Swap(next)
	d := r.delivered.Load()
	if d == nil || d.ttl != time.Duration(cfg.Delivery.DedupTTL) || len(d.ring) != cfg.Delivery.DedupMaxEntries {
		r.delivered.Store(newDelivered(time.Duration(cfg.Delivery.DedupTTL), cfg.Delivery.DedupMaxEntries))
	}
	if prev != nil {
		for name, t := range prev.targets {
			if t.client != nil {
				t.client.CloseIdleConnections()
			}
			if _, kept := next.targets[name]; !kept {
				r.metrics.forget(name)
			}
		}
	}
	for name, t := range next.targets {
		r.metrics.initTarget(name)
		if tf, ok := t.formatter.(format.Truncating); ok {
			for _, field := range tf.TruncatableFields() {
				r.metrics.truncated.WithLabelValues(name, field)
			}
		}
	}
	for _, t := range cfg.Targets {
		r.logger.Info("Relay target", "target", t.Name, "type", t.Type, "format", t.format(), "path", t.Path,
			"templates", !t.Templates.Empty())
	}
	if !next.auth.enabled() {
		r.logger.Warn("Webhook authentication is off: any client that reaches the relay can post notifications (set auth.bearer_tokens_file)")
	}
	return nil
}

func (r *Relay) newTarget(cfg *Config, tc *TargetConfig) (*target, error) {
	ch, ok := channels[tc.format()]
	if !ok {
		return nil, fmt.Errorf("unknown format %q", tc.format())
	}
	formatter, err := ch.newFormatter(cfg.Defaults, tc)
	if err != nil {
		return nil, err
	}
	t := &target{name: tc.Name, formatter: formatter, parallel: max(ch.parallel, 1)}
	if ch.editor != nil {
		t.editor = ch.editor(tc, formatter)
	}
	if tc.Type == TypeFile {
		t.sink = &fileSink{path: tc.Path, target: tc.Name, now: time.Now}
		return t, nil
	}
	client, err := commonconfig.NewClientFromConfig(tc.HTTPClientConfig, "resonance-relay-"+tc.Name)
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	sizeWriteBuffer(client)
	attempts := r.metrics.attempts
	name := tc.Name
	t.client = client
	s := &httpSink{
		client:  client,
		url:     tc.url,
		retrier: httpretry.Retrier{Backoff: httpretry.Backoff{Min: time.Duration(cfg.Delivery.InitialBackoff), Max: time.Duration(cfg.Delivery.MaxBackoff)}},
		onAttempt: func(result string) {
			attempts.WithLabelValues(name, result).Inc()
		},
	}
	if u, err := url.Parse(tc.url); err == nil {
		s.parsedURL = u
	}
	if ch.quirks != nil {
		ch.quirks(r, s)
	}
	t.sink = s
	return t, nil
}

// messageWriteBuffer holds a channel message and its headers whole: with
// net/http's default of 4 KB, a Discord or Slack message of 10 alerts
// (about 10 KB) costs two socket writes and a 32 KB copy buffer each time.
const messageWriteBuffer = 32 << 10

// sizeWriteBuffer gives the client's transport messageWriteBuffer.
// prometheus/common has no option for it; its client's transport is the
// bare *http.Transport unless authentication, headers or TLS files that it
// reloads wrap it (webhook URLs, whose secret is the URL, need none), and a
// wrapped one keeps the default size. Called before the first request, as
// http.Transport requires.
func sizeWriteBuffer(c *http.Client) {
	if t, ok := c.Transport.(*http.Transport); ok {
		t.WriteBufferSize = messageWriteBuffer
	}
}

// deliverMessage sends message i of total unless it was delivered before
// (or is being delivered by a concurrent notification), and counts it.
func (r *Relay) deliverMessage(ctx context.Context, mem *delivered, t *target, groupKey string, m format.Message, firing map[string]bool, i, total int, logger *slog.Logger) (string, error) {
	key := keyOf(t.name, groupKey, m.Edit != "" && t.editor != nil && t.editor.alsoPosts, m, firing)
	began := time.Now()
	seen, err := mem.Claim(ctx, key)
	if seen {
		r.metrics.messages.WithLabelValues(t.name, messageDuplicate).Inc()
		return messageDuplicate, nil
	}
	if err == nil {
		err = r.send(ctx, t, m, firing, logger)
		mem.Finish(key, err == nil)
	}
	outcome := messageDelivered
	var rejected *httpretry.RejectedError
	switch {
	case err == nil:
		r.countTruncated(t.name, m, i, total, logger)
	case errors.As(err, &rejected):
		outcome = messageRejected
		// Logged once per message, not per attempt, with the channel's
		// reason: this needs a person, not a retry.
		logger.Error("Channel rejected a message", "message", i+1, "of", total, "status", rejected.Status, "reason", rejected.Reason)
	default:
		outcome = messageFailed
		logger.Warn("Message not delivered", "message", i+1, "of", total, "err", err)
	}
	r.metrics.messages.WithLabelValues(t.name, outcome).Inc()
	r.metrics.messageDuration.WithLabelValues(t.name, outcome).Observe(time.Since(began).Seconds())
	return outcome, err
}

// countTruncated counts the texts a delivered message had cut to fit its
// channel. Counted on delivery, so a message Alertmanager's retry finds
// already delivered is not counted again.
func (r *Relay) countTruncated(target string, m format.Message, i, total int, logger *slog.Logger) {
	if len(m.Truncated) == 0 {
		return
	}
	for _, field := range m.Truncated {
		r.metrics.truncated.WithLabelValues(target, field).Inc()
	}
	logger.Debug("Message text cut to the channel's limits", "message", i+1, "of", total, "fields", []string(m.Truncated))
}

// countAlerts counts alerts by status, one child lookup per run of alerts
// with the same status rather than one per alert.
func (r *Relay) countAlerts(target string, alerts []template.Alert) {
	for i := 0; i < len(alerts); {
		j := i + 1
		for j < len(alerts) && alerts[j].Status == alerts[i].Status {
			j++
		}
		r.metrics.alerts.WithLabelValues(target, alerts[i].Status).Add(float64(j - i))
		i = j
	}
}

// ServeHTTP handles POST /webhook/{target}; the mux must bind the {target}
// wildcard.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	start := time.Now()
	st := r.state.Load()
	if req.Method != http.MethodPost {
		r.metrics.rejected.WithLabelValues(rejectMethod).Inc()
		w.Header().Set("Allow", http.MethodPost)
		daemon.WriteError(w, http.StatusMethodNotAllowed, "the webhook takes POST")
		return
	}
	if !st.auth.allow(req) {
		r.metrics.rejected.WithLabelValues(rejectUnauthorized).Inc()
		w.Header().Set("WWW-Authenticate", `Bearer realm="resonance-relay"`)
		daemon.WriteError(w, http.StatusUnauthorized, "missing or wrong credentials")
		return
	}
	name := req.PathValue("target")
	t, ok := st.targets[name]
	if !ok {
		r.metrics.rejected.WithLabelValues(rejectUnknownTarget).Inc()
		daemon.WriteError(w, http.StatusNotFound, fmt.Sprintf("no target named %q in the relay's config", name))
		return
	}
	// Bounded before the body is read: each notification in flight holds
	// its body and its messages, and a channel that hangs holds them until
	// the deadline.
	if n := r.inFlight.Add(1); n > int64(st.cfg.Webhook.MaxConcurrentRequests) {
		r.inFlight.Add(-1)
		r.metrics.rejected.WithLabelValues(rejectOverloaded).Inc()
		w.Header().Set("Retry-After", "5")
		daemon.WriteError(w, http.StatusServiceUnavailable, fmt.Sprintf("%d notifications in flight (webhook.max_concurrent_requests): retry later", st.cfg.Webhook.MaxConcurrentRequests))
		return
	}
	defer r.inFlight.Add(-1)

	n, err := decodeNotification(http.MaxBytesReader(w, req.Body, st.cfg.Webhook.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			r.metrics.rejected.WithLabelValues(rejectTooLarge).Inc()
			daemon.WriteError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body exceeds %d bytes (webhook.max_body_bytes)", tooLarge.Limit))
			return
		}
		r.metrics.rejected.WithLabelValues(rejectBadPayload).Inc()
		daemon.WriteError(w, http.StatusBadRequest, err.Error())
		return
	}
	r.countAlerts(name, n.Alerts)
	logger := withLazy(r.logger, slog.String("target", name), slog.String("group_key", n.GroupKey), slog.Int("alerts", len(n.Alerts)))
	if n.TruncatedAlerts > 0 {
		logger.Warn("Alertmanager truncated the notification (max_alerts in its webhook_config)", "truncated_alerts", n.TruncatedAlerts)
	}

	code, body, outcome := r.deliver(req.Context(), st, t, n, logger)
	r.metrics.notified(name, outcome).Inc()
	r.metrics.notificationDuration.WithLabelValues(name, outcome).Observe(time.Since(start).Seconds())
	daemon.WriteJSON(w, code, body)
}

// Notify formats data for the target named name and delivers it as a
// webhook notification of groupKey would be: the target's formatter and
// limits, pacing, retries within delivery.deadline, order, memory of what
// was delivered, metrics. It is for senders inside the relay process, such
// as scheduled reports; the error says what was not delivered.
func (r *Relay) Notify(ctx context.Context, name string, data *template.Data, groupKey string) error {
	st := r.state.Load()
	t, ok := st.targets[name]
	if !ok {
		return fmt.Errorf("no target named %q in the relay's config", name)
	}
	start := time.Now()
	n := &notification{Data: *data, Version: "4", GroupKey: groupKey}
	code, rep, outcome := r.deliver(ctx, st, t, n, withLazy(r.logger, slog.String("target", name), slog.String("group_key", groupKey)))
	r.metrics.notified(name, outcome).Inc()
	r.metrics.notificationDuration.WithLabelValues(name, outcome).Observe(time.Since(start).Seconds())
	if code != http.StatusOK {
		return errors.New(rep.Error)
	}
	return nil
}

// webhookAnswer is the relay's answer to Alertmanager's POST (the JSON body of
// every /webhook/ reply), not the rituals' report (format.Report).
type webhookAnswer struct {
	Status    string `json:"status,omitempty"`
	Error     string `json:"error,omitempty"`
	Messages  int    `json:"messages"`
	Delivered int    `json:"delivered"`
	Duplicate int    `json:"already_delivered"`
	Failed    int    `json:"failed"`
	Rejected  int    `json:"rejected"`
	// NotSent are the parts after a failed one, held back so that the
	// retry delivers them in order.
	NotSent int `json:"not_sent"`
}

const statusDelivered = "delivered"

// deliver formats n for t and sends every message not delivered before,
// within the configured deadline. The parts of an ordered target go one
// after another and stop at the first that can still be delivered later,
// so that Alertmanager's retry sends the rest in order; a part the channel
// rejected for good is skipped. The answer says what Alertmanager should
// do: 2xx delivered; 5xx retry; 422 when the only failures are rejections
// no retry can fix (Alertmanager does not retry a 4xx).
func (r *Relay) deliver(ctx context.Context, st *state, t *target, n *notification, logger *slog.Logger) (int, webhookAnswer, string) {
	// The deadline covers the formatting too, which stops when it passes.
	ctx, cancel := context.WithTimeout(ctx, time.Duration(st.cfg.Delivery.Deadline))
	defer cancel()
	cutAnnotations := 0
	if tl, ok := t.formatter.(format.TextLimited); ok {
		cutAnnotations = format.CutAnnotations(&n.Data, tl.MaxText())
	}
	msgs, err := r.format(ctx, t, n)
	if err != nil {
		if ctx.Err() != nil {
			logger.Warn("Formatting outlived the delivery deadline", "err", err)
			return http.StatusGatewayTimeout, webhookAnswer{Error: "formatting did not finish within delivery.deadline: " + err.Error()}, outcomeFailed
		}
		logger.Error("Cannot format the notification", "err", err)
		return http.StatusInternalServerError, webhookAnswer{Error: "formatting failed: " + err.Error()}, outcomeFormatError
	}
	if cutAnnotations > 0 && len(msgs) > 0 {
		// Counted with the first message's delivery, once, like its cuts.
		for range cutAnnotations {
			msgs[0].Truncated = append(msgs[0].Truncated, format.FieldAnnotation)
		}
	}

	mem := r.delivered.Load()
	rep := webhookAnswer{Messages: len(msgs)}
	firing := make(map[string]bool, len(n.Alerts))
	for i := range n.Alerts {
		if a := &n.Alerts[i]; a.Status == format.StatusFiring {
			firing[format.Identity(a)] = true
		}
	}
	var (
		mu       sync.Mutex // guards rep and firstErr
		firstErr error
	)
	// send delivers message i and reports whether the next ones may follow.
	send := func(i int) bool {
		outcome, err := r.deliverMessage(ctx, mem, t, n.GroupKey, msgs[i], firing, i, len(msgs), logger)
		mu.Lock()
		defer mu.Unlock()
		switch outcome {
		case messageDuplicate:
			rep.Duplicate++
		case messageDelivered:
			rep.Delivered++
		case messageRejected:
			rep.Rejected++
		default:
			rep.Failed++
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("message %d of %d: %w", i+1, len(msgs), err)
		}
		return outcome != messageFailed
	}
	if t.parallel == 1 {
		for i := range msgs {
			if !send(i) {
				rep.NotSent = len(msgs) - i - 1
				break
			}
		}
	} else {
		// A few workers take the messages in turn, this goroutine one of
		// them: fewer goroutines (and stacks grown by the HTTP client) than
		// one per message.
		var next atomic.Int64
		work := func() {
			for i := int(next.Add(1)) - 1; i < len(msgs); i = int(next.Add(1)) - 1 {
				send(i)
			}
		}
		var wg sync.WaitGroup
		for range min(t.parallel, len(msgs)) - 1 {
			wg.Add(1)
			r.workers.Go(func() {
				defer wg.Done()
				work()
			})
		}
		work()
		wg.Wait()
	}
	switch {
	case rep.Failed > 0:
		rep.Error = fmt.Sprintf("%d of %d messages not delivered yet (%d held back to keep the order); first: %v", rep.Failed, len(msgs), rep.NotSent, firstErr)
		code := http.StatusBadGateway
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			code = http.StatusGatewayTimeout
		}
		return code, rep, outcomeFailed
	case rep.Rejected > 0:
		rep.Error = fmt.Sprintf("the channel rejected %d of %d messages for good (a retry cannot help); first: %v", rep.Rejected, len(msgs), firstErr)
		return http.StatusUnprocessableEntity, rep, outcomeRejected
	}
	rep.Status = statusDelivered
	logger.Debug("Notification delivered", "messages", len(msgs), "already_delivered", rep.Duplicate)
	return http.StatusOK, rep, outcomeDelivered
}
