package localstack

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"go.yaml.in/yaml/v3"
)

// Shipped config files, relative to the repository root.
const (
	PrometheusConfig   = "prometheus/prometheus.yml"
	RulesFile          = "rules/resonance.rules.yml"
	AlertmanagerConfig = "alertmanager/alertmanager.yml"
)

// RelayTokenPath is where the shipped alertmanager.yml reads the relay's
// bearer token (the docker-compose secret); the stack writes its own token
// and points Alertmanager and the relay at it.
const RelayTokenPath = "/run/secrets/relay_token"

// Fast-mode timings: short enough for a test to see an alert fire and
// resolve within seconds, in the same order as the shipped timings.
const (
	fastScrapeInterval = "1s"
	fastMaxRange       = 10 * time.Second
	fastMaxFor         = 2 * time.Second
	fastScale          = 30 // group_wait and group_interval are divided by this
	fastMinGroupTiming = time.Second
	fastMaxGroupTiming = 10 * time.Second
)

type renderer struct {
	opts      Options
	addresses map[string][]string // host:port in shipped configs → loopback addresses
	tokenFile string              // the relay's bearer token, for both sides
	docsURL   string              // the stack's docs server, for runbook links
}

type renderedFiles struct {
	prometheus, rules, alertmanager, exporter, relay string
}

func (r renderer) renderAll() (renderedFiles, error) {
	var f renderedFiles
	if err := writeToken(r.tokenFile); err != nil {
		return f, err
	}
	var err error
	if f.rules, err = r.renderRules(); err != nil {
		return f, err
	}
	if f.prometheus, err = r.renderPrometheus(f.rules); err != nil {
		return f, err
	}
	if f.alertmanager, err = r.renderAlertmanager(); err != nil {
		return f, err
	}
	if r.opts.ExporterConfig != "" {
		f.exporter = filepath.Join(r.opts.Dir, "exporter.yml")
		if err := os.WriteFile(f.exporter, []byte(r.opts.ExporterConfig), 0o600); err != nil {
			return f, err
		}
	}
	if f.relay, err = r.renderRelay(); err != nil {
		return f, err
	}
	return f, nil
}

// renderRelay writes the relay's config with authentication on: the given
// YAML (or the relay's built-in targets, heartbeat included) plus auth.bearer_tokens_file
// holding the token Alertmanager sends.
func (r renderer) renderRelay() (string, error) {
	doc := map[string]any{}
	if r.opts.RelayConfig != "" {
		if err := yaml.Unmarshal([]byte(r.opts.RelayConfig), &doc); err != nil {
			return "", fmt.Errorf("relay config: %w", err)
		}
	} else {
		var targets []any
		for _, name := range []string{"discord", "slack", "hub"} {
			targets = append(targets, map[string]any{"name": name, "type": "file", "path": "relay-deliveries.jsonl", "format": name})
		}
		// The Watchdog's route (alertmanager.yml's heartbeat receiver).
		targets = append(targets, map[string]any{"name": "heartbeat", "type": "file", "path": "relay-heartbeat.jsonl", "format": "heartbeat"})
		doc["targets"] = targets
	}
	if _, set := doc["auth"]; !set {
		doc["auth"] = map[string]any{"bearer_tokens_file": r.tokenFile}
	}
	data, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(r.opts.Dir, "relay.yml")
	return path, os.WriteFile(path, data, 0o600)
}

// writeToken writes a new random bearer token for Alertmanager → relay.
func writeToken(path string) error {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600)
}

// pointCredentials sends Alertmanager's credentials_file to the stack's
// token file.
func pointCredentials(node any, tokenFile string) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == "credentials_file" && s == RelayTokenPath {
				n[k] = tokenFile
				continue
			}
			pointCredentials(v, tokenFile)
		}
	case []any:
		for _, v := range n {
			pointCredentials(v, tokenFile)
		}
	}
}

// renderPrometheus fills in the loopback addresses and the rendered rule
// file; in fast mode it also shortens the global intervals.
func (r renderer) renderPrometheus(rulesPath string) (string, error) {
	doc, err := r.load(PrometheusConfig)
	if err != nil {
		return "", err
	}
	r.fillAddresses(doc)
	doc["rule_files"] = []any{rulesPath}
	if r.opts.Fast {
		global, _ := doc["global"].(map[string]any)
		if global == nil {
			global = map[string]any{}
			doc["global"] = global
		}
		global["scrape_interval"] = fastScrapeInterval
		global["evaluation_interval"] = fastScrapeInterval
	}
	return r.write("prometheus.yml", doc)
}

// renderAlertmanager points the receivers at the loopback relay; in fast
// mode group_wait and group_interval shrink, keeping their order.
func (r renderer) renderAlertmanager() (string, error) {
	doc, err := r.load(AlertmanagerConfig)
	if err != nil {
		return "", err
	}
	r.fillAddresses(doc)
	pointCredentials(doc, r.tokenFile)
	if r.opts.Fast {
		if err := shrinkGroupTimings(doc); err != nil {
			return "", err
		}
	}
	return r.write("alertmanager.yml", doc)
}

// renderRules copies the generated rule pack; in fast mode range selectors
// and `for` durations are capped so that alerts fire and resolve in seconds.
func (r renderer) renderRules() (string, error) {
	src := filepath.Join(r.opts.Root, RulesFile)
	data, err := os.ReadFile(src)
	if err != nil {
		return "", err
	}
	if r.opts.Fast {
		if data, err = shortenRules(data); err != nil {
			return "", fmt.Errorf("%s: %w", src, err)
		}
	}
	if r.docsURL != "" {
		// The runbook and SLO links open on the stack's docs server.
		base, err := docsBase(r.opts.Root)
		if err != nil {
			return "", err
		}
		data = []byte(strings.ReplaceAll(string(data), base+"docs/", r.docsURL+"/docs/"))
	}
	dst := filepath.Join(r.opts.Dir, "resonance.rules.yml")
	return dst, os.WriteFile(dst, data, 0o644)
}

func (r renderer) load(rel string) (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(r.opts.Root, rel))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	return doc, nil
}

func (r renderer) write(name string, doc map[string]any) (string, error) {
	data, err := yaml.Marshal(doc)
	if err != nil {
		return "", err
	}
	path := filepath.Join(r.opts.Dir, name)
	return path, os.WriteFile(path, data, 0o644)
}

// fillAddresses replaces every shipped host:port, in `targets` lists (one
// address may become several, e.g. clustered Alertmanagers) and inside any
// other string such as a receiver URL.
func (r renderer) fillAddresses(node any) {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if list, ok := v.([]any); ok && k == "targets" {
				n[k] = r.expandTargets(list)
				continue
			}
			if s, ok := v.(string); ok {
				n[k] = r.replaceInString(s)
				continue
			}
			r.fillAddresses(v)
		}
	case []any:
		for i, v := range n {
			if s, ok := v.(string); ok {
				n[i] = r.replaceInString(s)
				continue
			}
			r.fillAddresses(v)
		}
	}
}

func (r renderer) expandTargets(list []any) []any {
	var out []any
	for _, t := range list {
		s, _ := t.(string)
		if addrs, ok := r.addresses[s]; ok {
			for _, a := range addrs {
				out = append(out, a)
			}
			continue
		}
		out = append(out, t)
	}
	return out
}

func (r renderer) replaceInString(s string) string {
	for from, to := range r.addresses {
		s = strings.ReplaceAll(s, from, to[0])
	}
	return s
}

func shrinkGroupTimings(node any) error {
	switch n := node.(type) {
	case map[string]any:
		for k, v := range n {
			if k == "group_wait" || k == "group_interval" {
				s, _ := v.(string)
				d, err := model.ParseDuration(s)
				if err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
				short := min(max(time.Duration(d)/fastScale, fastMinGroupTiming), fastMaxGroupTiming)
				n[k] = model.Duration(short).String()
				continue
			}
			if err := shrinkGroupTimings(v); err != nil {
				return err
			}
		}
	case []any:
		for _, v := range n {
			if err := shrinkGroupTimings(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// shortenRules caps range selectors, subquery ranges, `for` and
// `keep_firing_for` of every rule.
func shortenRules(data []byte) ([]byte, error) {
	p := parser.NewParser(parser.Options{})
	groups, errs := rulefmt.Parse(data, false, model.UTF8Validation, p, promslog.NewNopLogger())
	if len(errs) > 0 {
		return nil, errs[0]
	}
	for gi := range groups.Groups {
		for ri := range groups.Groups[gi].Rules {
			rule := &groups.Groups[gi].Rules[ri]
			expr, err := p.ParseExpr(rule.Expr)
			if err != nil {
				return nil, err
			}
			parser.Inspect(expr, func(node parser.Node, _ []parser.Node) error {
				switch n := node.(type) {
				case *parser.MatrixSelector:
					n.Range = min(n.Range, fastMaxRange)
				case *parser.SubqueryExpr:
					n.Range = min(n.Range, fastMaxRange)
					if n.Step > time.Second {
						n.Step = time.Second
					}
				}
				return nil
			})
			rule.Expr = expr.String()
			rule.For = model.Duration(min(time.Duration(rule.For), fastMaxFor))
			rule.KeepFiringFor = model.Duration(min(time.Duration(rule.KeepFiringFor), fastMaxFor))
		}
	}
	return yaml.Marshal(groups)
}
