package relay

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/relay/statefile"
)

// editor plans and sends the messages of a target whose messages may edit
// the ones it posted before (Discord's on_resolve), from its channel's
// package (see channels), with the message ids in the relay's state file.
type editor struct {
	// plan turns a notification into the target's messages, some of
	// them edits of earlier ones (format.Message.Edit).
	plan func(ctx context.Context, ids *statefile.Store, data *template.Data, groupKey string) ([]format.Message, error)
	// send delivers one of them with s, and records or forgets its id.
	send func(ctx context.Context, ids *statefile.Store, s sink, m format.Message, firing map[string]bool, logger *slog.Logger) error
	// alsoPosts: a resolution edited in place is posted too, so that its
	// edit and its post are two messages of the same alerts.
	alsoPosts bool
}

// format turns n into t's messages: its editor's plan when it edits, else
// its formatter's.
func (r *Relay) format(ctx context.Context, t *target, n *notification) ([]format.Message, error) {
	if t.editor == nil {
		return t.formatter.Format(ctx, &n.Data, n.GroupKey)
	}
	return t.editor.plan(ctx, r.sent.Load(), &n.Data, n.GroupKey)
}

// send delivers m to t: with its editor when it edits, else as a POST of
// m's body.
func (r *Relay) send(ctx context.Context, t *target, m format.Message, firing map[string]bool, logger *slog.Logger) error {
	if t.editor == nil {
		_, err := t.sink.Send(ctx, request{Body: m.Body})
		return err
	}
	return t.editor.send(ctx, r.sent.Load(), t.sink, m, firing, logger)
}

// sinkSender is a sink as a channel package's sender of one request
// (discord.Sender).
type sinkSender struct{ s sink }

func (ss sinkSender) Send(ctx context.Context, method, path string, query url.Values, body []byte) ([]byte, error) {
	return ss.s.Send(ctx, request{Method: method, Path: path, Query: query, Body: body})
}

// openStore opens the message-id store of cfg, reusing the running one
// when its settings did not change.
func (r *Relay) openStore(cfg *Config) error {
	if s := r.sent.Load(); s != nil && s.Path() == cfg.Delivery.MessagesFile && s.Capacity() == cfg.Delivery.MessagesMaxEntries {
		return nil
	}
	s, damage, err := statefile.Open(cfg.Delivery.MessagesFile, cfg.Delivery.MessagesMaxEntries)
	if err != nil {
		return fmt.Errorf("delivery.messages_file: %w", err)
	}
	if damage != nil {
		// Never a reason not to start: the lost entries turn their edits
		// on resolve into new posts, nothing worse.
		r.logger.Error("delivery.messages_file is damaged; starting with its valid entries, the others' resolutions will be posted instead of edited", "err", damage)
		r.metrics.storeDamaged.Inc()
	}
	prev := r.sent.Load()
	if prev != nil {
		// A reload that moves the file keeps the rituals' successes.
		if err := s.AdoptRituals(prev); err != nil {
			r.logger.Error("Cannot save the rituals' last successes to the new delivery.messages_file", "err", err)
		}
	}
	r.sent.Store(s)
	if prev != nil {
		prev.Close() // its journal is the new store's now, or a file no longer used
	}
	return nil
}

// LastSuccess is when ritual last succeeded, as recorded in the relay's
// state (delivery.messages_file, or memory without it): with
// RecordSuccess, the relay is the ritual scheduler's schedule.Successes.
func (r *Relay) LastSuccess(ritual string) (time.Time, bool) {
	return r.sent.Load().LastSuccess(ritual)
}

// RecordSuccess records a success of ritual in the relay's state.
func (r *Relay) RecordSuccess(ritual string, at time.Time) error {
	if err := r.sent.Load().RecordSuccess(ritual, at); err != nil {
		return fmt.Errorf("delivery.messages_file: %w", err)
	}
	return nil
}

// CheckMessagesFile reads cfg's delivery.messages_file and its journal as
// the relay does at start, writing nothing (--config.check). It fails when
// they cannot be read (the relay would not start), when they are damaged
// (the relay would start with their valid entries only, and post the
// resolutions of the others instead of editing them). A file not written
// yet is fine: a first start, or a config checked away from its machine.
func CheckMessagesFile(cfg *Config) error {
	damage, err := statefile.Check(cfg.Delivery.MessagesFile, cfg.Delivery.MessagesMaxEntries)
	if err != nil {
		return fmt.Errorf("delivery.messages_file cannot be read: %w", err)
	}
	if damage != nil {
		return fmt.Errorf("delivery.messages_file is damaged: %w; the relay starts with its valid entries and posts the others' resolutions instead of editing them", damage)
	}
	return nil
}
