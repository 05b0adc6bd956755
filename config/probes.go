package config

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/configfile"
)

// ProbeConfig is one HTTP probe run in the background on its interval (not
// per scrape: a call may cost credits, and several Prometheus replicas must
// not multiply it).
type ProbeConfig struct {
	Name             string                        `yaml:"name"`
	URL              string                        `yaml:"url"`
	Method           string                        `yaml:"method"`
	Body             string                        `yaml:"body"`
	Headers          map[string]string             `yaml:"headers"`
	Interval         model.Duration                `yaml:"interval"`
	Timeout          model.Duration                `yaml:"timeout"`
	ExpectedStatus   []int                         `yaml:"expected_status"`
	HTTPClientConfig commonconfig.HTTPClientConfig `yaml:"http_config"`
}

var probeNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// UnmarshalYAML fills in the defaults of each probe before decoding.
func (p *ProbeConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*p = ProbeConfig{
		Method:           http.MethodGet,
		Interval:         model.Duration(30 * time.Second),
		Timeout:          model.Duration(10 * time.Second),
		ExpectedStatus:   []int{http.StatusOK},
		HTTPClientConfig: commonconfig.DefaultHTTPClientConfig,
	}
	type plain ProbeConfig
	return unmarshal((*plain)(p))
}

func (p *ProbeConfig) validate() error {
	if !probeNameRE.MatchString(p.Name) {
		return fmt.Errorf("name: %q must match %s (it becomes a label value)", p.Name, probeNameRE)
	}
	if err := configfile.ValidateHTTPURL(p.URL); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	switch p.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut:
	default:
		return fmt.Errorf("method: %q is not one of GET, HEAD, POST, PUT", p.Method)
	}
	if p.Body != "" && (p.Method == http.MethodGet || p.Method == http.MethodHead) {
		return fmt.Errorf("body: a %s request has no body; use POST or PUT", p.Method)
	}
	for name := range p.Headers {
		// Plain headers are neither masked nor read from files; credentials
		// belong in http_config, which is both.
		switch http.CanonicalHeaderKey(strings.TrimSpace(name)) {
		case "Authorization", "Proxy-Authorization":
			return fmt.Errorf("headers: %q must not be set here; use http_config.authorization (credentials_file) so the secret stays out of the config", name)
		}
	}
	if p.Interval <= 0 {
		return errors.New("interval: must be greater than 0")
	}
	if p.Timeout <= 0 || p.Timeout > p.Interval {
		return fmt.Errorf("timeout: %s must be greater than 0 and at most the interval (%s)", p.Timeout, p.Interval)
	}
	for _, s := range p.ExpectedStatus {
		if s < 100 || s > 599 {
			return fmt.Errorf("expected_status: %d is not an HTTP status code", s)
		}
	}
	if err := p.HTTPClientConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return nil
}
