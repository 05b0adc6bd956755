package discord_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
)

func render(t testing.TB, opts discord.Options, data *template.Data) []discord.Message {
	t.Helper()
	msgs, out := formattest.Format[discord.Message](t, formattest.New(t, discord.New, opts), data, "")
	checkMessages(t, msgs)
	return out
}

// checkMessages: one embed per alert, within Discord's limits.
func checkMessages(t testing.TB, msgs []format.Message) {
	t.Helper()
	for i, m := range msgs {
		var d discord.Message
		if err := json.Unmarshal(m.Body, &d); err != nil {
			t.Fatal(err)
		}
		if len(m.Alerts) != len(d.Embeds) {
			t.Errorf("message %d: %d alerts, %d embeds", i, len(m.Alerts), len(d.Embeds))
		}
	}
	formattest.CheckLimits(t, msgs, formattest.DiscordLimits)
}

func TestGolden(t *testing.T) {
	formattest.GoldenFormat(t, formattest.New(t, discord.New, discord.Options{Defaults: formattest.Defaults}), "", checkMessages)
}

func TestSeedShape(t *testing.T) {
	m := render(t, discord.Options{Defaults: formattest.Defaults}, formattest.PlanData())[0]
	if m.Content != "🚨 **CRITICAL ALERT**" {
		t.Errorf("content = %q", m.Content)
	}
	e := m.Embeds[0]
	if e.Color != 16711680 || e.Title != "Error Rate Threshold Exceeded" {
		t.Errorf("embed = %+v", e)
	}
	want := map[string]string{"Service": "quantum-resonance-api", "Time": "2025-12-11T01:54:16Z", "Severity": "critical", "Current / Threshold": "25 / 5"}
	for _, f := range e.Fields {
		if v, ok := want[f.Name]; ok && v != f.Value {
			t.Errorf("field %s = %q, want %q", f.Name, f.Value, v)
		}
		delete(want, f.Name)
	}
	if len(want) > 0 {
		t.Errorf("missing fields %v", want)
	}
}

func TestColours(t *testing.T) {
	for sev, want := range map[string]int{"critical": discord.ColorCritical, "warning": discord.ColorWarning, "info": discord.ColorInfo, "": discord.ColorUnknown} {
		a := formattest.PlanAlert()
		a.Labels["severity"] = sev
		if got := render(t, discord.Options{}, formattest.Group(a))[0].Embeds[0].Color; got != want {
			t.Errorf("severity %q: colour %d, want %d", sev, got, want)
		}
	}
	resolved := render(t, discord.Options{}, formattest.PlanResolved())[0]
	if resolved.Embeds[0].Color != discord.ColorResolved || resolved.Content != "✅ **RESOLVED**" {
		t.Errorf("resolved: colour %d, content %q", resolved.Embeds[0].Color, resolved.Content)
	}
}

// Every alert arrives, in order, spread over messages within the limits.
func TestSplitKeepsEveryAlert(t *testing.T) {
	for _, n := range []int{1, 30, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			msgs := render(t, discord.Options{Defaults: formattest.Defaults}, formattest.Many(n))
			// At most 10 embeds a message, fewer when their text reaches
			// 6000 characters.
			if least := (n + 9) / 10; len(msgs) < least || len(msgs) > 2*least {
				t.Errorf("%d messages, want %d to %d", len(msgs), least, 2*least)
			}
			i := 0
			for k, m := range msgs {
				if len(msgs) > 1 && !strings.HasSuffix(m.Content, fmt.Sprintf("(%d/%d)", k+1, len(msgs))) {
					t.Errorf("message %d content %q lacks its part number", k, m.Content)
				}
				for _, e := range m.Embeds {
					inst := fmt.Sprintf("app-%03d:8080", i)
					if !hasFieldContaining(e, "Labels", "instance="+inst) {
						t.Fatalf("embed %d of message %d is not alert %d", len(m.Embeds), k, i)
					}
					i++
				}
			}
			if i != n {
				t.Errorf("%d embeds, want %d", i, n)
			}
		})
	}
}

// Alerts with huge texts are cut with "…" and packed by the 6000-character
// budget, never dropped.
func TestLongTextsAreCutAndPacked(t *testing.T) {
	alerts := make([]template.Alert, 12)
	for i := range alerts {
		a := formattest.PlanAlert()
		a.Annotations["summary"] = strings.Repeat("S", 1000)
		a.Annotations["description"] = strings.Repeat("D", 10000)
		a.Annotations["current_value"] = strings.Repeat("9", 2000)
		a.Labels["instance"] = fmt.Sprintf("host-%d-%s", i, strings.Repeat("i", 2000))
		a.GeneratorURL = "http://prometheus/" + strings.Repeat("g", 3000) // cannot fit: left out, not cut
		alerts[i] = a
	}
	msgs := render(t, discord.Options{}, formattest.Group(alerts...))
	embeds := 0
	for _, m := range msgs {
		for _, e := range m.Embeds {
			embeds++
			if !strings.HasSuffix(e.Title, format.Ellipsis) || !strings.HasSuffix(e.Description, format.Ellipsis) {
				t.Fatalf("long title/description not cut with an ellipsis")
			}
			for _, f := range e.Fields {
				if strings.Contains(f.Value, "gggg") {
					t.Errorf("a link too long for its field was cut instead of left out")
				}
			}
		}
	}
	if embeds != len(alerts) {
		t.Errorf("%d embeds, want %d", embeds, len(alerts))
	}
	if len(msgs) < 2 {
		t.Errorf("12 embeds near 6000 characters each fit %d message(s)", len(msgs))
	}
}

func TestMentions(t *testing.T) {
	a := formattest.PlanAlert()
	a.Annotations["description"] = "@everyone look <@&1> here"
	crit := render(t, discord.Options{MentionRole: "123456789"}, formattest.Group(a))[0]
	if !strings.HasPrefix(crit.Content, "<@&123456789> ") {
		t.Errorf("critical content %q lacks the role mention", crit.Content)
	}
	if len(crit.AllowedMentions.Parse) != 0 || len(crit.AllowedMentions.Roles) != 1 || crit.AllowedMentions.Roles[0] != "123456789" {
		t.Errorf("allowed_mentions = %+v, want only the role", crit.AllowedMentions)
	}

	warn := formattest.PlanAlert()
	warn.Labels["severity"] = "warning"
	for _, data := range []*template.Data{formattest.Group(warn), formattest.PlanResolved()} {
		m := render(t, discord.Options{MentionRole: "123456789"}, data)[0]
		if strings.Contains(m.Content, "<@&") || len(m.AllowedMentions.Roles) != 0 || m.AllowedMentions.Parse == nil {
			t.Errorf("%s: content %q, allowed_mentions %+v: only firing critical alerts ping", data.Status, m.Content, m.AllowedMentions)
		}
	}
	// The raw JSON must say "parse": [] — null would let Discord parse all.
	f, _ := discord.New(discord.Options{})
	msgs, _ := f.Format(t.Context(), formattest.PlanData(), "")
	if !strings.Contains(string(msgs[0].Body), `"allowed_mentions":{"parse":[]}`) {
		t.Errorf("body lacks an empty allowed_mentions.parse: %s", msgs[0].Body)
	}

	if _, err := discord.New(discord.Options{MentionRole: "@everyone"}); err == nil {
		t.Error("a mention role that is not an ID was accepted")
	}
}

func TestTemplates(t *testing.T) {
	tmpl := &format.Templates{
		Headline: `{{ len .Alerts }} alert(s) for {{ .CommonLabels.alertname }}`,
		Title:    `{{ (index .Alerts 0).Labels.instance }}`,
	}
	if err := tmpl.Compile(); err != nil {
		t.Fatal(err)
	}
	msgs := render(t, discord.Options{Templates: tmpl}, formattest.Many(2))
	if msgs[0].Content != "2 alert(s) for ErrorRateHigh" {
		t.Errorf("content = %q", msgs[0].Content)
	}
	if msgs[0].Embeds[1].Title != "app-001:8080" {
		t.Errorf("title = %q", msgs[0].Embeds[1].Title)
	}
	if msgs[0].Embeds[1].Description == "" {
		t.Error("the built-in description should stay when only the title is templated")
	}
}

func hasFieldContaining(e discord.Embed, name, part string) bool {
	for _, f := range e.Fields {
		if f.Name == name && strings.Contains(f.Value, part) {
			return true
		}
	}
	return false
}

func BenchmarkFormat(b *testing.B) {
	formattest.BenchmarkFormat(b, formattest.New(b, discord.New, discord.Options{Defaults: formattest.Defaults}))
}

// Each message names the payload fields it cut, once per cut text, for the
// relay's resonance_relay_truncated_total; a message that fits names none.
func TestTruncatedFieldsNamed(t *testing.T) {
	cuts := func(t *testing.T, opts discord.Options, data *template.Data) []format.Truncations {
		t.Helper()
		msgs, _ := formattest.Format[discord.Message](t, formattest.New(t, discord.New, opts), data, "")
		out := make([]format.Truncations, len(msgs))
		for i, m := range msgs {
			out[i] = m.Truncated
		}
		return out
	}
	if got := cuts(t, discord.Options{Defaults: formattest.Defaults}, formattest.PlanData()); len(got) != 1 || got[0] != nil {
		t.Errorf("plan notification: truncated %q, want nothing", got)
	}

	a := formattest.PlanAlert()
	a.Annotations["description"] = strings.Repeat("D", discord.MaxDescription+1)
	if got := cuts(t, discord.Options{}, formattest.Group(a)); len(got) != 1 || !slices.Equal(got[0], format.Truncations{"embed.description"}) {
		t.Errorf("long description: truncated %q, want [embed.description]", got)
	}

	a = formattest.PlanAlert()
	a.Annotations["summary"] = strings.Repeat("S", discord.MaxTitle+1)
	a.Labels["instance"] = strings.Repeat("i", discord.MaxFieldName)
	tmpl := &format.Templates{Headline: strings.Repeat("H", discord.MaxContent+1)}
	if err := tmpl.Compile(); err != nil {
		t.Fatal(err)
	}
	want := format.Truncations{"content", "embed.title", "embed.fields"}
	if got := cuts(t, discord.Options{Templates: tmpl}, formattest.Group(a)); len(got) != 1 || !slices.Equal(got[0], want) {
		t.Errorf("long headline, title and label: truncated %q, want %q", got, want)
	}

	// Split over several messages, each message names its own embeds' cuts.
	alerts := make([]template.Alert, 12)
	for i := range alerts {
		a := formattest.PlanAlert()
		a.Labels["instance"] = fmt.Sprint(i)
		a.Annotations["description"] = strings.Repeat("D", 10000)
		alerts[i] = a
	}
	msgs := cuts(t, discord.Options{}, formattest.Group(alerts...))
	if len(msgs) < 2 {
		t.Fatalf("12 long alerts fit %d message(s)", len(msgs))
	}
	total := 0
	for i, m := range msgs {
		if len(m) == 0 || slices.ContainsFunc(m, func(f string) bool { return f != "embed.description" }) {
			t.Errorf("message %d: truncated %q, want only embed.description", i, m)
		}
		total += len(m)
	}
	if total != len(alerts) {
		t.Errorf("%d descriptions counted as cut, want %d", total, len(alerts))
	}
}

// A link that does not fit the Links field is left out whole, and the
// links after it still come.
func TestLinksLeftOutWhole(t *testing.T) {
	for _, tc := range []struct {
		runbookLen int
		want       func(runbook, silence string) string
	}{
		// The runbook fills the field: the Silence link has no room.
		{discord.MaxFieldValue - len("[Runbook]()") - 3, func(r, _ string) string { return "[Runbook](" + r + ")" }},
		// The runbook cannot fit: only the Silence link.
		{discord.MaxFieldValue, func(_, s string) string { return "[Silence](" + s + ")" }},
		{20, func(r, s string) string { return "[Runbook](" + r + ") · [Silence](" + s + ")" }},
	} {
		a := formattest.PlanAlert()
		runbook := "https://runbooks/" + strings.Repeat("é", tc.runbookLen-len("https://runbooks/"))
		a.Annotations["runbook_url"] = runbook
		data := formattest.Group(a)
		e := render(t, discord.Options{}, data)[0].Embeds[0]
		links := e.Fields[len(e.Fields)-1]
		if want := tc.want(runbook, format.SilenceURL(data.ExternalURL, &data.Alerts[0])); links.Name != "Links" || links.Value != want {
			t.Errorf("runbook of %d characters: %s = %q, want %q", tc.runbookLen, links.Name, links.Value, want)
		}
	}
}

// Odd text reaches Discord as written; parse is [] (no pings but the
// role's), never null.
func TestOddText(t *testing.T) {
	for _, m := range formattest.FormatOdd[discord.Message](t, formattest.New(t, discord.New, discord.Options{Defaults: formattest.Defaults}), "", `odd <text> & \"quotes\"`) {
		if m.AllowedMentions.Parse == nil || len(m.AllowedMentions.Parse) > 0 || len(m.Embeds) == 0 {
			t.Errorf("%+v", m)
		}
	}
}

// A crafted alert cannot put a link of its own into a message: Markdown in
// label and annotation values is escaped, and a runbook_url that would
// splice a second link after the first stays one link to its own host; one
// that is no http(s) URL is left out.
func TestMarkdownAndLinkInjection(t *testing.T) {
	data := formattest.PlanData()
	a := &data.Alerts[0]
	a.Labels["customer"] = "[Free Nitro](https://evil.example)"
	a.Annotations["description"] = "**urgent** see [here](https://evil.example)"
	a.Annotations["runbook_url"] = "https://ok.example/rb) [Phish](https://evil.example"
	m := render(t, discord.Options{Defaults: formattest.Defaults}, data)[0]
	e := m.Embeds[0]
	if strings.Contains(e.Description, "[here](") || !strings.Contains(e.Description, `\*\*urgent\*\* see \[here\](https://evil.example)`) {
		t.Errorf("description %q", e.Description)
	}
	for _, f := range e.Fields {
		switch f.Name {
		case "Labels":
			if !strings.Contains(f.Value, `customer=\[Free Nitro\](https://evil.example)`) {
				t.Errorf("labels %q", f.Value)
			}
		case "Links":
			if strings.Contains(f.Value, "[Phish]") || !strings.Contains(f.Value, "[Runbook](https://ok.example/rb%29%20%5BPhish%5D%28https://evil.example)") {
				t.Errorf("links %q", f.Value)
			}
		}
	}

	a.Annotations["runbook_url"] = "javascript:alert(1)"
	for _, f := range render(t, discord.Options{Defaults: formattest.Defaults}, data)[0].Embeds[0].Fields {
		if f.Name == "Links" && strings.Contains(f.Value, "Runbook") {
			t.Errorf("a javascript: runbook is linked: %q", f.Value)
		}
	}
}
