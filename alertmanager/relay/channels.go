package relay

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/prometheus/alertmanager/template"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/heartbeat"
	"github.com/quantum-resonance/telemetry/alertmanager/hub"
	"github.com/quantum-resonance/telemetry/alertmanager/relay/statefile"
	"github.com/quantum-resonance/telemetry/alertmanager/slack"
)

// channel is what the relay needs of one kind of payload, from its
// package: its formatter, how many of one notification's messages go out
// at once, and what its HTTP API does beyond the shared rules. Adding a
// channel is its package and one entry in channels; the pipeline (decode,
// format, dedup, order, retry) is the same for all.
type channel struct {
	// setKeys are the keys only this channel reads that a target sets:
	// set on another channel's target, they are an error.
	setKeys func(t *TargetConfig) []string
	// check validates and completes them; remote is false for a file
	// target writing this channel's payload.
	check        func(t *TargetConfig, remote bool) error
	newFormatter func(d format.Defaults, tc *TargetConfig) (format.Formatter, error)
	// parallel is how many messages of one notification go out at once.
	// 1 keeps the parts of a split notification in order, and Discord and
	// Slack rate-limit per webhook.
	parallel int
	// quirks, when set, adds the API's own behaviour to a target's sink.
	quirks func(r *Relay, s *httpSink)
	// editor, when set, gives a target of the channel its editor, nil
	// when the target's config edits nothing: its messages may edit the
	// ones it posted before, planned and sent by the channel's package.
	editor func(tc *TargetConfig, f format.Formatter) *editor
}

// channels by payload format (a file target writes any of them), which is
// also the type of a remote target.
var channels = map[string]channel{
	FormatDiscord: {
		setKeys: func(t *TargetConfig) []string { return t.Discord.SetKeys() },
		check:   func(t *TargetConfig, remote bool) error { return t.Discord.Validate(remote) },
		newFormatter: func(d format.Defaults, tc *TargetConfig) (format.Formatter, error) {
			return discord.New(discord.Options{Defaults: d, MentionRole: tc.Discord.MentionRole, Templates: &tc.Templates})
		},
		parallel: 1,
		quirks: func(r *Relay, s *httpSink) {
			s.pacer = r.pacers.get(s.url)
			s.retryAfter = discord.RetryAfter(s.url)
			s.waitURL, _ = resolve(s.url, request{Query: discord.WaitQuery})
		},
		editor: func(tc *TargetConfig, f format.Formatter) *editor {
			e := discord.NewEditor(tc.Name, tc.Discord.OnResolve, f)
			if e == nil {
				return nil
			}
			return &editor{
				plan: func(ctx context.Context, ids *statefile.Store, data *template.Data, groupKey string) ([]format.Message, error) {
					return e.Plan(ctx, ids, data, groupKey)
				},
				send: func(ctx context.Context, ids *statefile.Store, s sink, m format.Message, firing map[string]bool, logger *slog.Logger) error {
					return e.Send(ctx, ids, sinkSender{s}, m, firing, logger)
				},
				alsoPosts: e.AlsoPosts(),
			}
		},
	},
	FormatSlack: {
		newFormatter: func(d format.Defaults, tc *TargetConfig) (format.Formatter, error) {
			return slack.New(slack.Options{Defaults: d, Templates: &tc.Templates})
		},
		parallel: 1,
		quirks:   func(_ *Relay, s *httpSink) { s.refusal = slack.Refusal },
	},
	FormatHub: {
		setKeys: func(t *TargetConfig) []string { return t.Hub.SetKeys() },
		check:   checkHub,
		newFormatter: func(d format.Defaults, tc *TargetConfig) (format.Formatter, error) {
			return hub.New(hub.Options{Defaults: d, Templates: &tc.Templates})
		},
		// Hub events are one independent request per alert. 8 rather
		// than 4: a usual group of up to 8 alerts goes out in one round,
		// which costs less CPU per notification as well as less time; a
		// group of hundreds still opens at most 8 connections to the hub.
		parallel: hubParallelism,
	},
	FormatHeartbeat: {
		check: func(t *TargetConfig, _ bool) error {
			if !t.Templates.Empty() {
				return errors.New("templates: a heartbeat ping carries no text")
			}
			return nil
		},
		newFormatter: func(format.Defaults, *TargetConfig) (format.Formatter, error) { return heartbeat.New(), nil },
		parallel:     1,
	},
}

func checkHub(t *TargetConfig, _ bool) error {
	if t.Templates.Headline != "" || t.Templates.Title != "" {
		return errors.New("templates: the hub event has only a message; set templates.description")
	}
	return t.Hub.Authorize(&t.HTTPClientConfig)
}

// pacers are the Discord webhooks' pacers, one per URL, kept across
// reloads so that a reload does not forget a rate-limit window in
// progress.
type pacers struct {
	mu sync.Mutex
	m  map[string]*discord.Pacer
}

// get returns the pacer of url, creating it.
func (ps *pacers) get(url string) *discord.Pacer {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = map[string]*discord.Pacer{}
	}
	p, ok := ps.m[url]
	if !ok {
		p = discord.NewPacer()
		ps.m[url] = p
	}
	return p
}

// keep drops the pacers of URLs not in urls.
func (ps *pacers) keep(urls map[string]bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for u := range ps.m {
		if !urls[u] {
			delete(ps.m, u)
		}
	}
}
