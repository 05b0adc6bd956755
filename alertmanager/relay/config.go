package relay

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/alertmanager/discord"
	"github.com/quantum-resonance/telemetry/alertmanager/format"
	"github.com/quantum-resonance/telemetry/alertmanager/hub"
	"github.com/quantum-resonance/telemetry/bearer"
	"github.com/quantum-resonance/telemetry/configfile"
	"github.com/quantum-resonance/telemetry/daemon"
)

// Target types.
const (
	TypeDiscord = "discord"
	TypeSlack   = "slack"
	// TypeHub posts the plan's hub event (custom JSON) to an HTTP endpoint.
	TypeHub = "hub"
	// TypeHTTP is TypeHub's first name, still accepted: "http" named the
	// transport, not the payload, and every target speaks HTTP.
	TypeHTTP = "http"
	TypeFile = "file" // formatted messages appended to a local file
	// TypeHeartbeat pings a dead man's switch URL on every notification
	// (Alertmanager's Watchdog route), with no alert text.
	TypeHeartbeat = "heartbeat"
)

// Formats a file target can write.
const (
	FormatDiscord = "discord"
	FormatSlack   = "slack"
	FormatHub     = "hub"
	// FormatHeartbeat is the ping of a heartbeat target.
	FormatHeartbeat = "heartbeat"
)

// DefaultDeliveriesFile is where the built-in config's targets write, so a
// newcomer without channel URLs sees alerts arrive.
const DefaultDeliveriesFile = "relay-deliveries.jsonl"

// DefaultHeartbeatFile is where the built-in config's heartbeat target
// writes its pings (Alertmanager's Watchdog route), apart from the alerts.
const DefaultHeartbeatFile = "relay-heartbeat.jsonl"

// Config is the relay's whole configuration.
type Config struct {
	Defaults format.Defaults `yaml:"defaults"`
	Webhook  WebhookConfig   `yaml:"webhook"`
	Auth     AuthConfig      `yaml:"auth"`
	Delivery DeliveryConfig  `yaml:"delivery"`
	Targets  []TargetConfig  `yaml:"targets"`
	// Rituals is the rituals: section, which schedules the plan's reports
	// through the targets, kept as written: the ritual scheduler
	// (ritual/schedule, which cmd/resonance-relay composes with the relay)
	// decodes and validates it against TargetNames, so the relay does not
	// link the reports and their queries.
	Rituals RitualsSection `yaml:"rituals,omitempty"`
}

// removedKey is a key the relay no longer reads, whatever its value: its
// validation says where it went.
type removedKey struct{}

// UnmarshalYAML accepts any value.
func (*removedKey) UnmarshalYAML(*yaml.Node) error { return nil }

// RitualsSection is the rituals: section as written.
type RitualsSection struct {
	// Node is the section's YAML; nil when the file has none.
	Node *yaml.Node
	// Dir is the config file's directory, for the section's relative paths.
	Dir string
}

// UnmarshalYAML keeps the section for its owner to decode.
func (r *RitualsSection) UnmarshalYAML(n *yaml.Node) error {
	r.Node = n
	return nil
}

// TargetNames lists the configured targets' names, sorted.
func (c *Config) TargetNames() []string {
	names := make([]string, 0, len(c.Targets))
	for _, t := range c.Targets {
		names = append(names, t.Name)
	}
	slices.Sort(names)
	return names
}

// WebhookConfig limits the incoming webhook requests.
type WebhookConfig struct {
	// MaxBodyBytes bounds a notification body; larger ones get 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxConcurrentRequests bounds the notifications read and delivered
	// at once, and with MaxBodyBytes the memory they hold; more get 503
	// with Retry-After, which Alertmanager retries.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
}

// DefaultMaxConcurrentRequests is webhook.max_concurrent_requests' default:
// a local delivery takes milliseconds, so Alertmanager's groups rarely
// overlap more; a channel that hangs holds each notification until the
// deadline, and 20 notifications of 1.9 MB at once then peak at 133 MB RSS
// with 4 (194 MB with 8, 570 MB unbounded: BENCHMARKS.md).
const DefaultMaxConcurrentRequests = 4

// AuthConfig requires a bearer token on /webhook/, as Alertmanager's
// http_config sends it (authorization: {credentials_file: ...}). With
// several set any is accepted. Files are read at load and on every reload;
// the tokens file also when a token does not match and the file changed,
// for rotation. Basic auth is exporter-toolkit's (--web.config.file,
// basic_auth_users), as for the exporter: it covers every endpoint.
type AuthConfig struct {
	// BearerTokensFile holds the accepted tokens, one a line (blank lines
	// and # comments ignored), as the exporter's ingest.api_keys_file.
	BearerTokensFile string              `yaml:"bearer_tokens_file,omitempty"`
	BearerToken      commonconfig.Secret `yaml:"bearer_token,omitempty"`
	BearerTokenFile  string              `yaml:"bearer_token_file,omitempty"`
	// BasicAuth is refused with a pointer to --web.config.file, where basic
	// auth lives, rather than an unknown-field error.
	BasicAuth *removedKey `yaml:"basic_auth,omitempty"`

	tokens      *bearer.KeySet // read from BearerTokensFile by Validate
	tokensStamp fileStamp
}

// DeliveryConfig tunes retries and the memory of delivered messages.
type DeliveryConfig struct {
	// Deadline bounds the delivery of one notification, retries included.
	// Keep it shorter than Alertmanager's webhook timeout so the relay
	// answers (5xx) before Alertmanager gives up on the request.
	Deadline       model.Duration `yaml:"deadline"`
	InitialBackoff model.Duration `yaml:"initial_backoff"`
	MaxBackoff     model.Duration `yaml:"max_backoff"`
	// DedupTTL is how long a delivered message is remembered, so that
	// Alertmanager retrying a partly delivered notification does not post
	// its delivered messages again. Keep it below repeat_interval.
	DedupTTL model.Duration `yaml:"dedup_ttl"`
	// DedupMaxEntries bounds that memory; the oldest entries go first.
	DedupMaxEntries int `yaml:"dedup_max_entries"`
	// MessagesFile keeps the ids of the Discord messages of firing alerts,
	// so that a restarted relay still edits them on resolve, and each
	// ritual's last success, so that a restarted relay still knows how late
	// a ritual is; "" keeps them in memory only. MessagesMaxEntries bounds
	// the messages, oldest first.
	MessagesFile       string `yaml:"messages_file"`
	MessagesMaxEntries int    `yaml:"messages_max_entries"`
}

// TargetConfig is one destination, addressed as POST /webhook/<name>.
type TargetConfig struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`

	// URL or URLFile: the channel's webhook URL (discord, slack, http). It
	// is a secret: masked when the config is marshalled, never logged.
	URL     commonconfig.Secret `yaml:"url,omitempty"`
	URLFile string              `yaml:"url_file,omitempty"`

	// Path and Format: for type file, where to append and which channel's
	// payload to write (discord, slack or hub).
	Path   string `yaml:"path,omitempty"`
	Format string `yaml:"format,omitempty"`

	// The channels' own keys, inline (the YAML is flat), each owned,
	// documented and checked by its channel's package.
	Discord discord.Config `yaml:",inline"`
	Hub     hub.Config     `yaml:",inline"`

	Templates format.Templates `yaml:"templates,omitempty"`

	// HTTPClientConfig: proxy, TLS and other client settings.
	HTTPClientConfig commonconfig.HTTPClientConfig `yaml:"http_config,omitempty"`

	url string // resolved from URL or URLFile by Validate
}

// Default returns the config the relay runs on without --config.file: the
// three channels of the SPEC, each written to DefaultDeliveriesFile (in the
// working directory) in its channel's format, and the heartbeat's pings to
// DefaultHeartbeatFile.
func Default() *Config {
	c := base()
	for _, f := range []string{FormatDiscord, FormatSlack, FormatHub} {
		name := f
		c.Targets = append(c.Targets, TargetConfig{Name: name, Type: TypeFile, Path: DefaultDeliveriesFile, Format: f})
	}
	c.Targets = append(c.Targets, TargetConfig{Name: FormatHeartbeat, Type: TypeFile, Path: DefaultHeartbeatFile, Format: FormatHeartbeat})
	if err := c.Validate(); err != nil {
		panic("built-in relay config is invalid: " + err.Error())
	}
	return c
}

func base() *Config {
	return &Config{
		Defaults: format.Defaults{Service: "quantum-resonance-api", Environment: "production", Region: "us-east-1"},
		Webhook:  WebhookConfig{MaxBodyBytes: 4 << 20, MaxConcurrentRequests: DefaultMaxConcurrentRequests},
		Delivery: DeliveryConfig{
			Deadline:           model.Duration(10 * time.Second),
			InitialBackoff:     model.Duration(250 * time.Millisecond),
			MaxBackoff:         model.Duration(4 * time.Second),
			DedupTTL:           model.Duration(15 * time.Minute),
			DedupMaxEntries:    10000,
			MessagesMaxEntries: 5000,
		},
	}
}

// UnmarshalYAML fills in the defaults of each target before decoding. It is
// the obsolete func-style unmarshaler on purpose: with it yaml.v3 keeps the
// decoder's KnownFields strictness inside the target.
func (t *TargetConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*t = TargetConfig{HTTPClientConfig: commonconfig.DefaultHTTPClientConfig}
	type plain TargetConfig
	return unmarshal((*plain)(t))
}

// Load reads, decodes and validates the file at path (configfile.Load); an
// empty path gives Default(). Relative paths inside the file are relative
// to its directory, as Prometheus has them.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	cfg := base()
	if err := configfile.Load(path, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse decodes and validates a YAML document; relative paths are resolved
// against the working directory.
func Parse(data []byte) (*Config, error) {
	cfg := base()
	if err := configfile.Parse(data, ".", cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

var targetNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// ResolvePaths makes every relative path of the config relative to dir.
func (c *Config) ResolvePaths(dir string) {
	join := func(p *string) { *p = commonconfig.JoinDir(dir, *p) }
	join(&c.Auth.BearerTokenFile)
	join(&c.Auth.BearerTokensFile)
	join(&c.Delivery.MessagesFile)
	for i := range c.Targets {
		t := &c.Targets[i]
		join(&t.URLFile)
		join(&t.Hub.BearerTokenFile)
		join(&t.Path)
		t.HTTPClientConfig.SetDirectory(dir)
	}
	c.Rituals.Dir = dir
}

// Validate checks the config, reads the secret files and compiles the
// templates. Its errors name the key at fault and never quote a secret.
func (c *Config) Validate() error {
	if c.Webhook.MaxConcurrentRequests <= 0 {
		return errors.New("webhook.max_concurrent_requests: must be greater than 0")
	}
	if c.Webhook.MaxBodyBytes <= 0 {
		return errors.New("webhook.max_body_bytes: must be greater than 0")
	}
	if c.Defaults.GrafanaURL != "" {
		if err := configfile.ValidateHTTPURL(c.Defaults.GrafanaURL); err != nil {
			return fmt.Errorf("defaults.grafana_url: %w", err)
		}
	}
	if err := c.Auth.validate(); err != nil {
		return fmt.Errorf("auth.%w", err)
	}
	if err := c.Delivery.validate(); err != nil {
		return fmt.Errorf("delivery.%w", err)
	}
	if len(c.Targets) == 0 {
		return errors.New("targets: at least one target is needed")
	}
	seen := map[string]bool{}
	for i := range c.Targets {
		t := &c.Targets[i]
		if err := t.validate(); err != nil {
			if t.Name != "" {
				return fmt.Errorf("targets[%d] (%s).%w", i, t.Name, err)
			}
			return fmt.Errorf("targets[%d].%w", i, err)
		}
		if seen[t.Name] {
			return fmt.Errorf("targets[%d].name: %q is used by another target", i, t.Name)
		}
		seen[t.Name] = true
	}
	return nil
}

func (a *AuthConfig) validate() error {
	if a.BearerToken != "" && a.BearerTokenFile != "" {
		return errors.New("bearer_token and bearer_token_file: set at most one")
	}
	if a.BearerTokensFile != "" {
		a.tokensStamp = stampOf(a.BearerTokensFile)
		ks, err := bearer.Load(a.BearerTokensFile)
		if err != nil {
			return fmt.Errorf("bearer_tokens_file: %w", err)
		}
		a.tokens = ks
	}
	if a.BearerTokenFile != "" {
		tok, err := configfile.ReadSecret(a.BearerTokenFile)
		if err != nil {
			return fmt.Errorf("bearer_token_file: %w", err)
		}
		a.BearerToken = commonconfig.Secret(tok)
	}
	if a.BasicAuth != nil {
		return errors.New("basic_auth: the relay takes basic auth from --web.config.file (basic_auth_users, exporter-toolkit's web config), as the exporter does, and it then covers every endpoint; move it there")
	}
	return nil
}

func (d *DeliveryConfig) validate() error {
	// The HTTP server's write timeout bounds how long the relay can take
	// to answer; the deadline must leave room to write the answer.
	maxDeadline := model.Duration(daemon.WriteTimeout - 5*time.Second)
	switch {
	case d.Deadline <= 0 || d.Deadline > maxDeadline:
		return fmt.Errorf("deadline: %s must be greater than 0 and at most %s (and shorter than Alertmanager's webhook timeout)", d.Deadline, maxDeadline)
	case d.InitialBackoff <= 0:
		return errors.New("initial_backoff: must be greater than 0")
	case d.MaxBackoff < d.InitialBackoff:
		return fmt.Errorf("max_backoff: %s must be at least initial_backoff (%s)", d.MaxBackoff, d.InitialBackoff)
	case d.DedupTTL <= 0:
		return errors.New("dedup_ttl: must be greater than 0")
	case d.DedupMaxEntries <= 0:
		return errors.New("dedup_max_entries: must be greater than 0")
	case d.MessagesMaxEntries <= 0:
		return errors.New("messages_max_entries: must be greater than 0")
	}
	return nil
}

func (t *TargetConfig) validate() error {
	if !targetNameRE.MatchString(t.Name) {
		return fmt.Errorf("name: %q must be 1 to 64 letters, digits, '-' or '_' (it is the path /webhook/<name>)", t.Name)
	}
	if t.Type == TypeHTTP {
		t.Type = TypeHub
	}
	_, remote := channels[t.Type] // a remote target's type names its channel
	switch {
	case remote:
		if t.Path != "" || t.Format != "" {
			return fmt.Errorf("path, format: only for type %q", TypeFile)
		}
		if err := t.resolveURL(); err != nil {
			return err
		}
		if err := t.HTTPClientConfig.Validate(); err != nil {
			return fmt.Errorf("http_config: %w", err)
		}
	case t.Type == TypeFile:
		if t.URL != "" || t.URLFile != "" || len(t.Hub.SetKeys()) > 0 {
			return fmt.Errorf("url, url_file, bearer_token, bearer_token_file: not used by type %q", TypeFile)
		}
		if t.Path == "" {
			return errors.New("path: required for type file")
		}
		if _, ok := channels[t.Format]; !ok {
			return fmt.Errorf("format: %q is not one of discord, slack, hub, heartbeat", t.Format)
		}
	default:
		return fmt.Errorf("type: %q is not one of discord, slack, hub (or its older name http), file, heartbeat", t.Type)
	}

	format := t.format()
	for owner, ch := range channels {
		if owner == format || ch.setKeys == nil {
			continue
		}
		if keys := ch.setKeys(t); len(keys) > 0 {
			return fmt.Errorf("%s: only for type %q", strings.Join(keys, ", "), owner)
		}
	}
	if check := channels[format].check; check != nil {
		if err := check(t, remote); err != nil {
			return err
		}
	}
	if err := t.Templates.Compile(); err != nil {
		return fmt.Errorf("templates.%w", err)
	}
	return nil
}

// format is the payload the target sends: its channel, named by the type
// of a remote target and by the format of a file target.
func (t *TargetConfig) format() string {
	if t.Type == TypeFile {
		return t.Format
	}
	return t.Type
}

func (t *TargetConfig) resolveURL() error {
	switch {
	case t.URL != "" && t.URLFile != "":
		return errors.New("url and url_file: set exactly one")
	case t.URLFile != "":
		u, err := configfile.ReadSecret(t.URLFile)
		if err != nil {
			return fmt.Errorf("url_file: %w", err)
		}
		t.url = u
	case t.URL != "":
		t.url = string(t.URL)
	default:
		return fmt.Errorf("url or url_file: required for type %q", t.Type)
	}
	if err := configfile.ValidateHTTPURL(t.url); err != nil {
		if t.URLFile != "" {
			return fmt.Errorf("url_file: %w", err)
		}
		return fmt.Errorf("url: %w", err)
	}
	return nil
}
