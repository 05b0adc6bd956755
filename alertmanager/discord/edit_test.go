package discord_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/httpretry"
)

// memIDs is a discord.MessageIDs in memory.
type memIDs struct {
	byAlert  map[string]string
	messages map[string][]string
}

func newMemIDs() *memIDs {
	return &memIDs{byAlert: map[string]string{}, messages: map[string][]string{}}
}

func (m *memIDs) Lookup(target, alert string) (string, []string, bool) {
	id, ok := m.byAlert[target+"\x00"+alert]
	return id, m.messages[target+"\x00"+id], ok
}

func (m *memIDs) Sent(target, id string, alerts []string, _ time.Time) error {
	m.messages[target+"\x00"+id] = alerts
	for _, a := range alerts {
		m.byAlert[target+"\x00"+a] = id
	}
	return nil
}

func (m *memIDs) Forget(target, id string) error {
	for _, a := range m.messages[target+"\x00"+id] {
		delete(m.byAlert, target+"\x00"+a)
	}
	delete(m.messages, target+"\x00"+id)
	return nil
}

// fakeSender answers posts with a new message id and edits with refuse
// (nil: accepted), recording each request as "METHOD path?query".
type fakeSender struct {
	requests []string
	refuse   error
	next     int
}

func (s *fakeSender) Send(_ context.Context, method, path string, query url.Values, _ []byte) ([]byte, error) {
	if method == "" {
		method = http.MethodPost
	}
	s.requests = append(s.requests, method+" "+path+"?"+query.Encode())
	if method == http.MethodPatch {
		return nil, s.refuse
	}
	s.next++
	return fmt.Appendf(nil, `{"id":"%d"}`, 1300000000000000000+s.next), nil
}

func sendAll(t *testing.T, e *discord.Editor, ids discord.MessageIDs, s discord.Sender, msgs []format.Message, firing map[string]bool, logger *slog.Logger) {
	t.Helper()
	for _, m := range msgs {
		if err := e.Send(context.Background(), ids, s, m, firing, logger); err != nil {
			t.Fatal(err)
		}
	}
}

func firingSet(msgs []format.Message) map[string]bool {
	firing := map[string]bool{}
	for _, m := range msgs {
		for _, a := range m.Alerts {
			firing[a] = true
		}
	}
	return firing
}

// The Editor on its own, with a message store and a sender of its
// interfaces: the firing message is posted with ?wait=true and remembered,
// its resolution is one PATCH of it; a refused edit falls back to a post.
func TestEditorEditsThenFallsBack(t *testing.T) {
	if discord.NewEditor("discord", discord.ResolvePost, nil) != nil {
		t.Error("on_resolve: post has an editor")
	}
	f := formattest.New(t, discord.New, discord.Options{})
	e := discord.NewEditor("discord", discord.ResolveEdit, f)
	ids, s := newMemIDs(), &fakeSender{}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()

	firing := formattest.ByInstance(2)
	msgs, err := e.Plan(ctx, ids, firing, "g")
	if err != nil || len(msgs) != 1 || msgs[0].Edit != "" {
		t.Fatalf("firing plan: %d messages, %v", len(msgs), err)
	}
	sendAll(t, e, ids, s, msgs, firingSet(msgs), logger)
	resolved := formattest.Resolve(firing, formattest.PlanTime.Add(12*time.Minute))
	msgs, err = e.Plan(ctx, ids, resolved, "g")
	if err != nil || len(msgs) != 1 || msgs[0].Edit != "1300000000000000001" {
		t.Fatalf("resolved plan: %+v, %v; want one edit of the firing message", msgs, err)
	}
	sendAll(t, e, ids, s, msgs, nil, logger)
	if want := []string{"POST ?wait=true", "PATCH /messages/1300000000000000001?"}; strings.Join(s.requests, ",") != strings.Join(want, ",") {
		t.Errorf("requests %q, want %q", s.requests, want)
	}
	if len(ids.messages) != 0 {
		t.Errorf("the edited message is still remembered: %v", ids.messages)
	}

	// Fired again; Discord refuses the edit (the message was deleted).
	s.requests, s.refuse = nil, &httpretry.RejectedError{Status: http.StatusNotFound, Reason: "Unknown Message"}
	msgs, _ = e.Plan(ctx, ids, firing, "g")
	sendAll(t, e, ids, s, msgs, firingSet(msgs), logger)
	msgs, _ = e.Plan(ctx, ids, resolved, "g")
	sendAll(t, e, ids, s, msgs, nil, logger)
	if want := []string{"POST ?wait=true", "PATCH /messages/1300000000000000002?", "POST ?wait=true"}; strings.Join(s.requests, ",") != strings.Join(want, ",") {
		t.Errorf("requests %q, want %q", s.requests, want)
	}
	if !strings.Contains(logs.String(), "Cannot edit the Discord message of the firing alerts; posting the resolution instead") {
		t.Errorf("the fallback is not logged:\n%s", logs.String())
	}
	if len(ids.messages) != 0 {
		t.Errorf("the resolution's post is remembered: %v", ids.messages)
	}
}

// edit_and_post plans the edit and the post of the same resolution.
func TestEditorEditAndPost(t *testing.T) {
	f := formattest.New(t, discord.New, discord.Options{})
	e := discord.NewEditor("discord", discord.ResolveEditAndPost, f)
	if !e.AlsoPosts() {
		t.Error("edit_and_post does not post too")
	}
	ids, s := newMemIDs(), &fakeSender{}
	firing := formattest.PlanData()
	msgs, _ := e.Plan(context.Background(), ids, firing, "g")
	sendAll(t, e, ids, s, msgs, firingSet(msgs), slog.New(slog.DiscardHandler))
	msgs, err := e.Plan(context.Background(), ids, formattest.PlanResolved(), "g")
	if err != nil || len(msgs) != 2 || msgs[0].Edit == "" || msgs[1].Edit != "" {
		t.Fatalf("plan: %+v, %v; want an edit, then a post", msgs, err)
	}
}
