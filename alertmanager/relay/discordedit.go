package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/relay/statefile"
	"github.com/quantum-resonance/telemetry/httpretry"
)

// edits reports whether t edits Discord messages on resolve.
func (t *target) edits() bool {
	return t.onResolve == discord.ResolveEdit || t.onResolve == discord.ResolveEditAndPost
}

// format turns n into t's messages. A Discord target that edits on resolve
// first gets one edit per message whose firing alerts all resolve in n
// (the message turns green in place), then the other alerts as new
// messages; with edit_and_post the resolved alerts are posted too.
func (r *Relay) format(ctx context.Context, t *target, n *notification) ([]format.Message, error) {
	if !t.edits() {
		return t.formatter.Format(ctx, &n.Data, n.GroupKey)
	}
	store := r.sent.Load()
	resolved := map[string]bool{}
	for i := range n.Alerts {
		if a := &n.Alerts[i]; a.Status == format.StatusResolved {
			resolved[format.Identity(a)] = true
		}
	}
	type edit struct {
		id     string
		alerts []template.Alert
	}
	var edits []*edit
	byID := map[string]*edit{}
	var rest []template.Alert
	for _, a := range n.Alerts {
		id := format.Identity(&a)
		if resolved[id] {
			if msgID, carried, ok := store.Lookup(t.name, id); ok && allIn(carried, resolved) {
				e := byID[msgID]
				if e == nil {
					e = &edit{id: msgID}
					byID[msgID] = e
					edits = append(edits, e)
				}
				e.alerts = append(e.alerts, a)
				if t.onResolve == discord.ResolveEdit {
					continue
				}
			}
		}
		rest = append(rest, a)
	}

	var out []format.Message
	for _, e := range edits {
		msgs, err := t.formatter.Format(ctx, narrow(&n.Data, e.alerts), n.GroupKey)
		if err != nil {
			return nil, err
		}
		if len(msgs) != 1 {
			// The resolved rendering no longer fits one message: post it.
			if t.onResolve == discord.ResolveEdit {
				rest = append(rest, e.alerts...)
			}
			continue
		}
		msgs[0].Edit = e.id
		out = append(out, msgs[0])
	}
	if len(rest) > 0 {
		msgs, err := t.formatter.Format(ctx, narrow(&n.Data, rest), n.GroupKey)
		if err != nil {
			return nil, err
		}
		out = append(out, msgs...)
	}
	return out, nil
}

func allIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if !set[id] {
			return false
		}
	}
	return true
}

// narrow is data with only alerts (in data's order), its status firing when
// any of them fires. The group's labels stay: what tells an alert apart
// within its group does not change.
func narrow(data *template.Data, alerts []template.Alert) *template.Data {
	if len(alerts) == len(data.Alerts) {
		return data
	}
	d := *data
	d.Alerts = alerts
	d.Status = format.StatusResolved
	for i := range alerts {
		if alerts[i].Status == format.StatusFiring {
			d.Status = format.StatusFiring
		}
	}
	return &d
}

// sendDiscord delivers m to a Discord target that edits on resolve: an edit
// replaces its message, falling back to a new message when Discord no
// longer knows it or refuses the edit; a new message is posted with
// ?wait=true and, when all its alerts fire, remembered for the edit.
func (r *Relay) sendDiscord(ctx context.Context, t *target, m format.Message, firing map[string]bool, logger *slog.Logger) error {
	store := r.sent.Load()
	if m.Edit != "" {
		_, err := t.sink.Send(ctx, request{Method: http.MethodPatch, Path: discord.EditPath(m.Edit), Body: m.Body})
		var rejected *httpretry.RejectedError
		if err == nil || !errors.As(err, &rejected) {
			if err == nil {
				r.forget(store, t, m.Edit, logger)
			}
			return err
		}
		logger.Warn("Cannot edit the Discord message of the firing alerts; posting the resolution instead", "message_id", m.Edit, "status", rejected.Status, "reason", rejected.Reason)
		r.forget(store, t, m.Edit, logger)
	}
	reply, err := t.sink.Send(ctx, request{Query: discord.WaitQuery, Body: m.Body})
	if err != nil || len(reply) == 0 || !allIn(m.Alerts, firing) {
		return err // no reply: a file target, or a proxy that dropped it
	}
	id, ok := discord.MessageID(reply)
	if !ok {
		logger.Warn("Discord's answer carries no message id; its alerts will be posted again on resolve")
		return nil
	}
	if err := store.Sent(t.name, id, slices.Clone(m.Alerts), time.Now()); err != nil {
		logger.Error("Cannot save the Discord message ids (delivery.messages_file)", "err", err)
	}
	return nil
}

func (r *Relay) forget(store *statefile.Store, t *target, id string, logger *slog.Logger) {
	if err := store.Forget(t.name, id); err != nil {
		logger.Error("Cannot save the Discord message ids (delivery.messages_file)", "err", err)
	}
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
