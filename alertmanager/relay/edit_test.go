package relay

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

// editFixture is a Discord fake and a relay config pointing at it, with
// the message ids kept in a file.
type editFixture struct {
	fake   *formattest.Discord
	config string
}

func newEditFixture(t *testing.T, onResolve string) *editFixture {
	fake := formattest.NewDiscord()
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	store := filepath.Join(t.TempDir(), "messages.json")
	return &editFixture{fake: fake, config: `
delivery: {deadline: 5s, initial_backoff: 5ms, max_backoff: 20ms, messages_file: "` + store + `"}
targets: [{name: discord, type: discord, on_resolve: ` + onResolve + `, url: "` + srv.URL + `/api/webhooks/1/tok"}]
`}
}

func (f *editFixture) notify(t *testing.T, h *harness, data *template.Data) {
	t.Helper()
	body, _ := json.Marshal(notificationOf(data, `{}/{severity="critical"}:{alertname="ErrorRateHigh"}`))
	if code, r := h.post(t, "discord", body); code != 200 {
		t.Fatalf("%s: %d %+v", data.Status, code, r)
	}
}

func decodeDiscord(t *testing.T, body []byte) discord.Message {
	t.Helper()
	var m discord.Message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// The firing message turns green in place when its alerts resolve, saying
// how long they lasted; no second message is posted. The ids survive a
// restart of the relay.
func TestDiscordEditsTheFiringMessageOnResolve(t *testing.T) {
	f := newEditFixture(t, "edit")
	firing := formattest.ByInstance(2)
	f.notify(t, newHarness(t, f.config, nil), firing)
	// A new relay process: the message ids come back from the file.
	h := newHarness(t, f.config, nil)
	f.notify(t, h, formattest.Resolve(firing, formattest.PlanTime.Add(12*time.Minute)))

	ops := f.fake.Ops()
	if len(ops) != 2 || ops[0].Op != "post" || ops[1].Op != "edit" || ops[1].ID != ops[0].ID {
		t.Fatalf("ops = %+v, want a post then an edit of the same message", ops)
	}
	m := decodeDiscord(t, ops[1].Body)
	if len(m.Embeds) != 2 {
		t.Fatalf("edited message has %d embeds, want 2", len(m.Embeds))
	}
	for _, e := range m.Embeds {
		if e.Color != discord.ColorResolved || !strings.HasPrefix(e.Title, "[RESOLVED]") || !hasEmbedField(e, "Resolved after", "12m") {
			t.Errorf("edited embed: colour %d, title %q, fields %+v", e.Color, e.Title, e.Fields)
		}
	}
	if h.relay.sent.Load().Len() != 0 {
		t.Error("the edited message is still remembered")
	}
}

// Only some of a message's alerts resolve: the message stays as it is and
// the resolution is a new message. And a message Discord no longer knows
// (deleted) falls back to a new message too.
func TestDiscordPostsWhenTheMessageCannotBeEdited(t *testing.T) {
	f := newEditFixture(t, "edit")
	h := newHarness(t, f.config, nil)
	firing := formattest.ByInstance(2)
	f.notify(t, h, firing)
	partly := formattest.Resolve(firing, formattest.PlanTime.Add(5*time.Minute))
	partly.Alerts[1] = firing.Alerts[1]
	f.notify(t, h, partly)
	if ops := f.fake.Ops(); len(ops) != 2 || ops[1].Op != "post" {
		t.Fatalf("partial resolution: ops %+v, want a second post", ops)
	}

	f.fake.Delete()
	f.notify(t, h, formattest.Resolve(firing, formattest.PlanTime.Add(9*time.Minute)))
	ops := f.fake.Ops()
	if len(ops) != 3 || ops[2].Op != "post" {
		t.Fatalf("deleted message: ops %+v, want a post after the refused edit", ops)
	}
	if m := decodeDiscord(t, ops[2].Body); len(m.Embeds) != 2 || m.Embeds[0].Color != discord.ColorResolved {
		t.Errorf("fallback message: %+v", m)
	}
}

// edit_and_post edits the firing message and posts the resolution too.
func TestDiscordEditAndPost(t *testing.T) {
	f := newEditFixture(t, "edit_and_post")
	h := newHarness(t, f.config, nil)
	firing := formattest.PlanData()
	f.notify(t, h, firing)
	f.notify(t, h, formattest.PlanResolved())
	ops := f.fake.Ops()
	if len(ops) != 3 || ops[1].Op != "edit" || ops[2].Op != "post" {
		t.Fatalf("ops = %+v, want post, edit, post", ops)
	}
}

func hasEmbedField(e discord.Embed, name, value string) bool {
	for _, f := range e.Fields {
		if f.Name == name && f.Value == value {
			return true
		}
	}
	return false
}

// A relay whose message store holds a null entry (it panicked at start) or
// was cut by a power cut (it refused to start) starts, says so in its log,
// counts the damage, and still edits the messages it could read.
func TestRelayStartsOnADamagedStore(t *testing.T) {
	f := newEditFixture(t, "edit")
	firing := formattest.ByInstance(2)
	f.notify(t, newHarness(t, f.config, nil), firing)
	store := strings.Split(strings.Split(f.config, `messages_file: "`)[1], `"`)[0]
	good, err := os.ReadFile(store)
	if err != nil {
		t.Fatal(err)
	}
	damaged := strings.Replace(string(good), `"messages":[`, `"messages":[null,`, 1)
	damaged = damaged[:len(damaged)-1] // and cut before its last brace
	if err := os.WriteFile(store, []byte(damaged), 0o600); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, f.config, nil)
	if err := testutil.GatherAndCompare(h.reg, strings.NewReader(`
# HELP resonance_relay_message_store_damaged_total Loads of delivery.messages_file that found it damaged (cut short, empty, entries that are no message) and kept only its valid entries.
# TYPE resonance_relay_message_store_damaged_total counter
resonance_relay_message_store_damaged_total 1
`), "resonance_relay_message_store_damaged_total"); err != nil {
		t.Error(err)
	}
	if !strings.Contains(h.logs.String(), "delivery.messages_file is damaged") {
		t.Errorf("nothing logged:\n%s", h.logs.String())
	}
	f.notify(t, h, formattest.Resolve(firing, formattest.PlanTime.Add(12*time.Minute)))
	if ops := f.fake.Ops(); len(ops) != 2 || ops[1].Op != "edit" || ops[1].ID != ops[0].ID {
		t.Errorf("ops = %+v, want the firing message edited", ops)
	}
}

// The same resolution twice, as the second Alertmanager of a pair sends it:
// one edit, no "RESOLVED" post after it. The edited message's id is
// forgotten after the edit, so the second copy used to come as a post under
// a new dedup key.
func TestTheSameResolutionTwiceIsOneEdit(t *testing.T) {
	f := newEditFixture(t, "edit")
	h := newHarness(t, f.config, nil)
	firing := formattest.ByInstance(2)
	f.notify(t, h, firing)
	resolved := formattest.Resolve(firing, formattest.PlanTime.Add(7*time.Minute))
	f.notify(t, h, resolved)
	f.notify(t, h, resolved)
	var got []string
	for _, op := range f.fake.Ops() {
		got = append(got, op.Op+" "+op.ID)
	}
	if len(got) != 2 || !strings.HasPrefix(got[0], "post") || !strings.HasPrefix(got[1], "edit") {
		t.Fatalf("ops = %v, want the post and one edit", got)
	}
}

// What the shipped deployments run (one relay, its message store on a
// persistent volume): Alertmanager A and Alertmanager B of a pair each send
// the firing notification, with the same alerts and timestamps, each
// under its own external URL; the relay restarts (a deploy, a reboot);
// then B and A each send the resolution. Discord sees one post, answered
// with the message's id under ?wait=true, and one PATCH of that message:
// no second message, neither from the pair nor from the restart.
func TestAPairOfAlertmanagersAndARestartEditTheOneMessage(t *testing.T) {
	f := newEditFixture(t, "edit")
	send := func(h *harness, data *template.Data, alertmanager string) {
		t.Helper()
		d := *data
		d.ExternalURL = "http://" + alertmanager + ":9093"
		body, _ := json.Marshal(notificationOf(&d, `{}/{severity="critical"}:{alertname="ErrorRateHigh"}`))
		if code, r := h.post(t, "discord", body); code != 200 {
			t.Fatalf("%s from %s: %d %+v", data.Status, alertmanager, code, r)
		}
	}
	firing := formattest.ByInstance(3)
	before := newHarness(t, f.config, nil)
	send(before, firing, "alertmanager-a")
	send(before, firing, "alertmanager-b")

	after := newHarness(t, f.config, nil) // the restarted relay, on the same store
	resolved := formattest.Resolve(firing, formattest.PlanTime.Add(9*time.Minute))
	send(after, resolved, "alertmanager-b")
	send(after, resolved, "alertmanager-a")

	ops := f.fake.Ops()
	if len(ops) != 2 || ops[0].Op != "post" || ops[1].Op != "edit" || ops[1].ID != ops[0].ID {
		t.Fatalf("Discord saw %+v, want one post and one edit of that message", ops)
	}
	m := decodeDiscord(t, ops[1].Body)
	if len(m.Embeds) != 3 || m.Embeds[0].Color != discord.ColorResolved || !hasEmbedField(m.Embeds[0], "Resolved after", "9m") {
		t.Errorf("the edit: %+v", m)
	}
}
