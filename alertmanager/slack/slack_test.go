package slack_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/format/formattest"
	"github.com/quantum-resonance/telemetry/alertmanager/slack"
)

func render(t testing.TB, opts slack.Options, data *template.Data) ([]format.Message, []slack.Message) {
	t.Helper()
	msgs, out := formattest.Format[slack.Message](t, formattest.New(t, slack.New, opts), data, "")
	checkLimits(t, msgs)
	return msgs, out
}

func checkLimits(t testing.TB, msgs []format.Message) {
	t.Helper()
	formattest.CheckLimits(t, msgs, formattest.SlackLimits)
}

func TestGolden(t *testing.T) {
	formattest.GoldenFormat(t, formattest.New(t, slack.New, slack.Options{Defaults: formattest.Defaults}), "", checkLimits)
}

func TestSeedShape(t *testing.T) {
	_, m := render(t, slack.Options{Defaults: formattest.Defaults}, formattest.PlanData())
	if m[0].Text != "🚨 CRITICAL ALERT: Error Rate Threshold Exceeded" {
		t.Errorf("text = %q", m[0].Text)
	}
	b := m[0].Blocks
	if len(b) != 2 || b[0].Text == nil || b[0].Text.Type != "mrkdwn" {
		t.Fatalf("blocks = %+v", b)
	}
	if want := "*Error Rate Threshold Exceeded*\nError rate exceeded threshold: 25 errors/min (threshold: 5)\nCurrent: 25 | Threshold: 5"; b[0].Text.Text != want {
		t.Errorf("section text = %q, want %q", b[0].Text.Text, want)
	}
	if b[1].Fields[0].Text != "*Service:*\nquantum-resonance-api" || b[1].Fields[1].Text != "*Time:*\n2025-12-11T01:54:16Z" {
		t.Errorf("fields = %+v", b[1].Fields)
	}
}

func TestSplitKeepsEveryAlert(t *testing.T) {
	for _, n := range []int{1, 30, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			msgs, decoded := render(t, slack.Options{Defaults: formattest.Defaults}, formattest.Many(n))
			// At most 25 alerts (50 blocks) a message, fewer when their
			// text reaches MaxBlocksChars.
			if least := (n + 24) / 25; len(msgs) < least || len(msgs) > 2*least {
				t.Errorf("%d messages, want %d to %d", len(msgs), least, 2*least)
			}
			i := 0
			for k, m := range decoded {
				if len(msgs[k].Alerts)*2 != len(m.Blocks) {
					t.Errorf("message %d: %d alerts for %d blocks", k, len(msgs[k].Alerts), len(m.Blocks))
				}
				for _, b := range m.Blocks {
					if b.Fields == nil {
						continue
					}
					if want := fmt.Sprintf("instance=app-%03d:8080", i); !strings.Contains(b.Fields[4].Text, want) {
						t.Fatalf("alert %d out of order: %q", i, b.Fields[4].Text)
					}
					i++
				}
			}
			if i != n {
				t.Errorf("%d alerts sent, want %d", i, n)
			}
		})
	}
}

func TestLongTextAndEscaping(t *testing.T) {
	a := formattest.PlanAlert()
	a.Annotations["description"] = "<!channel> & <@U123> " + strings.Repeat("d", 5000)
	a.Labels["instance"] = strings.Repeat("i", 3000)
	_, m := render(t, slack.Options{}, formattest.Group(a))
	text := m[0].Blocks[0].Text.Text
	if strings.Contains(text, "<!channel>") || !strings.Contains(text, "&lt;!channel&gt; &amp; &lt;@U123&gt;") {
		t.Errorf("alert text not escaped: %.80q", text)
	}
	if !strings.Contains(text, format.Ellipsis) || !strings.HasSuffix(text, "Current: 25 | Threshold: 5") {
		t.Errorf("long description should be cut before the value line: …%q", text[len(text)-60:])
	}
}

func BenchmarkFormat(b *testing.B) {
	formattest.BenchmarkFormat(b, formattest.New(b, slack.New, slack.Options{Defaults: formattest.Defaults}))
}

// With defaults.grafana_url every alert links to its metric's dashboard.
func TestDashboardLink(t *testing.T) {
	d := formattest.Defaults
	d.GrafanaURL = "http://localhost:3000"
	_, m := render(t, slack.Options{Defaults: d}, formattest.PlanData())
	links := m[0].Blocks[1].Fields[len(m[0].Blocks[1].Fields)-1].Text
	if !strings.Contains(links, "<http://localhost:3000/d/resonance-system-health?") || !strings.Contains(links, "|Dashboard>") {
		t.Errorf("links = %q", links)
	}
}

// Each message names the payload fields it cut, once per cut text, for the
// relay's resonance_relay_truncated_total; a message that fits names none.
func TestTruncatedFieldsNamed(t *testing.T) {
	msgs, _ := render(t, slack.Options{Defaults: formattest.Defaults}, formattest.PlanData())
	if len(msgs) != 1 || msgs[0].Truncated != nil {
		t.Errorf("plan notification: truncated %q, want nothing", msgs[0].Truncated)
	}

	a := formattest.PlanAlert()
	a.Annotations["description"] = strings.Repeat("d", slack.MaxSectionText)
	msgs, _ = render(t, slack.Options{}, formattest.Group(a))
	if want := (format.Truncations{"blocks"}); len(msgs) != 1 || !slices.Equal(msgs[0].Truncated, want) {
		t.Errorf("long description: truncated %q, want %q", msgs[0].Truncated, want)
	}

	a = formattest.PlanAlert()
	a.Labels["instance"] = strings.Repeat("i", 1024)
	tmpl := &format.Templates{Headline: strings.Repeat("H", slack.MaxText+1)}
	if err := tmpl.Compile(); err != nil {
		t.Fatal(err)
	}
	msgs, _ = render(t, slack.Options{Templates: tmpl}, formattest.Group(a))
	if want := (format.Truncations{"blocks", "text"}); len(msgs) != 1 || !slices.Equal(msgs[0].Truncated, want) {
		t.Errorf("long headline and label: truncated %q, want %q", msgs[0].Truncated, want)
	}
}

// A link that does not fit the Links field is left out whole, and the
// links after it still come; "|" and mrkdwn's control characters in a URL
// are escaped.
func TestLinksLeftOutWhole(t *testing.T) {
	const room = slack.MaxFieldText - len("*Links:*\n")
	for _, tc := range []struct {
		runbook string
		want    func(text string) bool
	}{
		// The runbook fills the field: no other link has room.
		{"https://runbooks/" + strings.Repeat("é", room-len("<|Runbook>")-3-len("https://runbooks/")), func(text string) bool {
			return strings.HasSuffix(text, "|Runbook>") && !strings.Contains(text, " · ")
		}},
		// The runbook cannot fit: the source and silence links still come.
		{"https://runbooks/" + strings.Repeat("é", room), func(text string) bool {
			return strings.HasPrefix(text, "*Links:*\n<http") && strings.Contains(text, "|Source> · <") && strings.HasSuffix(text, "|Silence>") && !strings.Contains(text, "Runbook")
		}},
		{"https://runbooks/a|b<c", func(text string) bool {
			return strings.HasPrefix(text, "*Links:*\n<https://runbooks/a%7Cb&lt;c|Runbook> · <") && strings.HasSuffix(text, "|Silence>")
		}},
	} {
		a := formattest.PlanAlert()
		a.Annotations["runbook_url"] = tc.runbook
		_, m := render(t, slack.Options{}, formattest.Group(a))
		fields := m[0].Blocks[1].Fields
		if links := fields[len(fields)-1].Text; !tc.want(links) {
			t.Errorf("runbook of %d characters: links %q", format.Len(tc.runbook), links)
		}
	}
}

// Odd text reaches Slack in blocks, escaped as mrkdwn (not as HTML by
// the JSON encoder): its links stay <url|text>.
func TestOddText(t *testing.T) {
	for _, m := range formattest.FormatOdd[slack.Message](t, formattest.New(t, slack.New, slack.Options{Defaults: formattest.Defaults}), "", `odd &lt;text&gt; &amp; \"quotes\"`, "<https://") {
		if m.Text == "" || len(m.Blocks) == 0 {
			t.Errorf("%+v", m)
		}
	}
}

// A label or annotation cannot format the message: its mrkdwn characters
// arrive as look-alikes, while the relay's own bold title stays bold.
func TestValuesCannotFormat(t *testing.T) {
	a := formattest.PlanAlert()
	a.Labels["instance"] = "*Free Nitro* `x`"
	a.Annotations["summary"] = "_urgent_"
	_, m := render(t, slack.Options{}, formattest.Group(a))
	title := m[0].Blocks[0].Text.Text
	if !strings.HasPrefix(title, "*ˍurgentˍ*") {
		t.Errorf("title %.40q: want the relay's bold around the escaped summary", title)
	}
	var labels string
	for _, f := range m[0].Blocks[1].Fields {
		if strings.HasPrefix(f.Text, "*Labels:*") {
			labels = f.Text
		}
	}
	if !strings.Contains(labels, "∗Free Nitro∗ ˋxˋ") || strings.Contains(labels, "*Free") {
		t.Errorf("labels field %q: the value's formatting is not neutralised", labels)
	}
}
