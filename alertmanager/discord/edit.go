package discord

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/httpretry"
)

// MessageIDs remembers which Discord message carries which firing alert,
// per target, for the edit on resolve (the relay's state file).
type MessageIDs interface {
	// Lookup returns the id of the message carrying alert on target and
	// the identities of all the alerts it carries.
	Lookup(target, alert string) (id string, alerts []string, ok bool)
	// Sent remembers a posted message and the alerts it carries.
	Sent(target, id string, alerts []string, at time.Time) error
	// Forget drops a message: edited for good, or gone.
	Forget(target, id string) error
}

// Sender makes one request to a target's webhook, retried as the relay
// retries: method (POST when empty) of body to the webhook URL with path
// appended and query added. reply is the answer's body (nil when the
// target has none, as a file). A definitive refusal is a
// *httpretry.RejectedError.
type Sender interface {
	Send(ctx context.Context, method, path string, query url.Values, body []byte) (reply []byte, err error)
}

// Editor plans and sends the messages of a target that edits on resolve:
// the message of firing alerts turns green in place when they all
// resolve.
type Editor struct {
	target    string
	onResolve string
	formatter format.Formatter
}

// NewEditor returns the editor of the target named target, whose messages
// formatter makes, for its on_resolve; nil when on_resolve edits nothing
// (ResolvePost).
func NewEditor(target, onResolve string, formatter format.Formatter) *Editor {
	if onResolve != ResolveEdit && onResolve != ResolveEditAndPost {
		return nil
	}
	return &Editor{target: target, onResolve: onResolve, formatter: formatter}
}

// AlsoPosts reports whether a resolution edited in place is posted too
// (ResolveEditAndPost): its edit and its post are then two messages of the
// same alerts.
func (e *Editor) AlsoPosts() bool { return e.onResolve == ResolveEditAndPost }

// Plan turns data into the target's messages: first one edit per message
// of ids whose firing alerts all resolve in data (the message turns green
// in place; format.Message.Edit is its id), then the other alerts as new
// messages; with ResolveEditAndPost the resolved alerts are posted too.
func (e *Editor) Plan(ctx context.Context, ids MessageIDs, data *template.Data, groupKey string) ([]format.Message, error) {
	resolved := map[string]bool{}
	for i := range data.Alerts {
		if a := &data.Alerts[i]; a.Status == format.StatusResolved {
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
	for _, a := range data.Alerts {
		identity := format.Identity(&a)
		if resolved[identity] {
			if id, carried, ok := ids.Lookup(e.target, identity); ok && allIn(carried, resolved) {
				ed := byID[id]
				if ed == nil {
					ed = &edit{id: id}
					byID[id] = ed
					edits = append(edits, ed)
				}
				ed.alerts = append(ed.alerts, a)
				if e.onResolve == ResolveEdit {
					continue
				}
			}
		}
		rest = append(rest, a)
	}

	var out []format.Message
	for _, ed := range edits {
		msgs, err := e.formatter.Format(ctx, narrow(data, ed.alerts), groupKey)
		if err != nil {
			return nil, err
		}
		if len(msgs) != 1 {
			// The resolved rendering no longer fits one message: post it.
			if e.onResolve == ResolveEdit {
				rest = append(rest, ed.alerts...)
			}
			continue
		}
		msgs[0].Edit = ed.id
		out = append(out, msgs[0])
	}
	if len(rest) > 0 {
		msgs, err := e.formatter.Format(ctx, narrow(data, rest), groupKey)
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

// Send delivers m, one of Plan's messages, with s: an edit replaces its
// message, falling back to a new message when Discord no longer knows it
// or refuses the edit; a new message is posted with ?wait=true and, when
// all its alerts are in firing, remembered in ids for the edit. Failing to
// write ids is logged, not returned: the message was delivered.
func (e *Editor) Send(ctx context.Context, ids MessageIDs, s Sender, m format.Message, firing map[string]bool, logger *slog.Logger) error {
	if m.Edit != "" {
		_, err := s.Send(ctx, http.MethodPatch, EditPath(m.Edit), nil, m.Body)
		var rejected *httpretry.RejectedError
		if err == nil || !errors.As(err, &rejected) {
			if err == nil {
				e.forget(ids, m.Edit, logger)
			}
			return err
		}
		logger.Warn("Cannot edit the Discord message of the firing alerts; posting the resolution instead", "message_id", m.Edit, "status", rejected.Status, "reason", rejected.Reason)
		e.forget(ids, m.Edit, logger)
	}
	reply, err := s.Send(ctx, "", "", WaitQuery, m.Body)
	if err != nil || len(reply) == 0 || !allIn(m.Alerts, firing) {
		return err // no reply: a file target, or a proxy that dropped it
	}
	id, ok := MessageID(reply)
	if !ok {
		logger.Warn("Discord's answer carries no message id; its alerts will be posted again on resolve")
		return nil
	}
	if err := ids.Sent(e.target, id, slices.Clone(m.Alerts), time.Now()); err != nil {
		logger.Error("Cannot save the Discord message ids (delivery.messages_file)", "err", err)
	}
	return nil
}

func (e *Editor) forget(ids MessageIDs, id string, logger *slog.Logger) {
	if err := ids.Forget(e.target, id); err != nil {
		logger.Error("Cannot save the Discord message ids (delivery.messages_file)", "err", err)
	}
}
