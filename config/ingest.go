package config

import (
	"errors"
	"fmt"
	"time"

	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/configfile"
)

// IngestConfig configures the ingest API the app pushes to.
type IngestConfig struct {
	// APIKeysFile holds the accepted Bearer keys, one per line; re-read on
	// reload. Empty: only loopback clients may push.
	APIKeysFile string `yaml:"api_keys_file"`
	// MaxBodyBytes limits a request body after gzip inflation.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// MaxConcurrentRequests bounds the ingest requests decoded and
	// applied at once; beyond it a request gets 503 with Retry-After. A
	// request takes its slot once its body is in (read within
	// ingest.BodyTimeout, else 408), so a client trickling its body holds
	// no slot; a full house is refused before the body is read.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests"`
	// MaxLabelValues caps the distinct values of each free-form label per
	// metric; the rest fold into "other".
	MaxLabelValues int `yaml:"max_label_values"`
	// MaxSeriesPerMetric caps the label combinations of each event metric
	// (endpoint × method × code multiply); the rest fold into "other".
	MaxSeriesPerMetric int `yaml:"max_series_per_metric"`
	// BusinessTTL is how long a pushed business value is exported.
	BusinessTTL model.Duration `yaml:"business_ttl"`
	Loki        LokiConfig     `yaml:"loki"`
}

// LokiConfig enables forwarding of log batches to Loki's push API.
type LokiConfig struct {
	URL string `yaml:"url"` // base URL, e.g. http://loki:3100; empty: off
	// TenantID is sent as X-Scope-OrgID when set (multi-tenant Loki).
	TenantID string `yaml:"tenant_id"`
	// QueueSize bounds the log entries waiting to be sent; when Loki is slow
	// or down, newer entries beyond it are dropped and counted.
	QueueSize int `yaml:"queue_size"`
	// QueueBytes bounds the same queue in bytes: entries carry up to
	// 64 KiB of message and 16 KiB of metadata each.
	QueueBytes int `yaml:"queue_bytes"`
	// BatchBytes bounds one push (before gzip).
	BatchBytes int `yaml:"batch_bytes"`
	// MaxRetries is how often a failed push (network error, 429, 5xx) is
	// retried, with exponential backoff, before its entries are dropped.
	MaxRetries       int                           `yaml:"max_retries"`
	HTTPClientConfig commonconfig.HTTPClientConfig `yaml:"http_config"`
}

func defaultIngest() IngestConfig {
	return IngestConfig{
		MaxBodyBytes:          1 << 20,
		MaxConcurrentRequests: 32,
		MaxLabelValues:        500,
		MaxSeriesPerMetric:    5000,
		BusinessTTL:           model.Duration(5 * time.Minute),
		Loki: LokiConfig{
			QueueSize:        10000,
			QueueBytes:       16 << 20,
			BatchBytes:       1 << 20,
			MaxRetries:       5,
			HTTPClientConfig: commonconfig.DefaultHTTPClientConfig,
		},
	}
}

func (c *IngestConfig) validate() error {
	if c.MaxBodyBytes <= 0 {
		return errors.New("max_body_bytes: must be greater than 0")
	}
	if c.MaxConcurrentRequests <= 0 {
		return errors.New("max_concurrent_requests: must be greater than 0")
	}
	if c.MaxSeriesPerMetric <= 0 {
		return errors.New("max_series_per_metric: must be greater than 0")
	}
	if c.MaxLabelValues <= 0 {
		return errors.New("max_label_values: must be greater than 0")
	}
	if c.BusinessTTL <= 0 {
		return errors.New("business_ttl: must be greater than 0")
	}
	if c.Loki.URL != "" {
		if err := configfile.ValidateHTTPURL(c.Loki.URL); err != nil {
			return fmt.Errorf("loki.url: %w", err)
		}
	}
	if c.Loki.QueueSize <= 0 {
		return errors.New("loki.queue_size: must be greater than 0")
	}
	if c.Loki.QueueBytes <= 0 {
		return errors.New("loki.queue_bytes: must be greater than 0")
	}
	if c.Loki.BatchBytes <= 0 {
		return errors.New("loki.batch_bytes: must be greater than 0")
	}
	if c.Loki.MaxRetries < 0 {
		return errors.New("loki.max_retries: must not be negative")
	}
	if err := c.Loki.HTTPClientConfig.Validate(); err != nil {
		return fmt.Errorf("loki.http_config: %w", err)
	}
	return nil
}

func (c *IngestConfig) resolvePaths(dir string) {
	c.APIKeysFile = commonconfig.JoinDir(dir, c.APIKeysFile)
	c.Loki.HTTPClientConfig.SetDirectory(dir)
}
