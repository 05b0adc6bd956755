// Package config loads, defaults and validates the exporter's configuration.
//
// The YAML is decoded strictly: an unknown or misspelt key is an error naming
// the key and its line. Every section lives in its own file (system.go,
// ingest.go, probes.go, pi.go) with its defaults and its validation.
package config

import (
	"errors"
	"fmt"

	"github.com/quantum-resonance/telemetry/configfile"
)

// DefaultService is the service name of the plan.
const DefaultService = "quantum-resonance-api"

// Config is the exporter's whole configuration.
type Config struct {
	Service string        `yaml:"service"`
	System  SystemConfig  `yaml:"system"`
	Ingest  IngestConfig  `yaml:"ingest"`
	Probes  []ProbeConfig `yaml:"probes"`
	Pi      PiConfig      `yaml:"pi"`
	Process ProcessConfig `yaml:"process"`
}

// Default returns the built-in configuration the exporter runs on when no
// --config.file is given.
func Default() *Config {
	return &Config{
		Service: DefaultService,
		System:  defaultSystem(),
		Ingest:  defaultIngest(),
		Pi:      defaultPi(),
	}
}

// Load reads, decodes and validates the file at path (configfile.Load):
// relative paths inside it are relative to its directory, as Prometheus
// has them.
func Load(path string) (*Config, error) {
	cfg := Default()
	if err := configfile.Load(path, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Parse decodes and validates a YAML document; missing keys keep their
// defaults, relative paths are relative to the working directory.
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	if err := configfile.Parse(data, ".", cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Validate checks every section and returns the first problem, prefixed with
// the path of the offending key (e.g. "ingest.max_body_bytes: ...").
func (c *Config) Validate() error {
	if c.Service == "" {
		return errors.New("service: must not be empty")
	}
	if err := c.System.validate(); err != nil {
		return fmt.Errorf("system.%w", err)
	}
	if err := c.Ingest.validate(); err != nil {
		return fmt.Errorf("ingest.%w", err)
	}
	names := map[string]bool{}
	for i := range c.Probes {
		if err := c.Probes[i].validate(); err != nil {
			return fmt.Errorf("probes[%d].%w", i, err)
		}
		if names[c.Probes[i].Name] {
			return fmt.Errorf("probes[%d].name: %q is used by another probe", i, c.Probes[i].Name)
		}
		names[c.Probes[i].Name] = true
	}
	if err := c.Pi.validate(); err != nil {
		return fmt.Errorf("pi.%w", err)
	}
	if err := c.Process.validate(); err != nil {
		return fmt.Errorf("process.%w", err)
	}
	return nil
}

// ResolvePaths makes every relative path of the config relative to dir.
func (c *Config) ResolvePaths(dir string) {
	c.Ingest.resolvePaths(dir)
	for i := range c.Probes {
		c.Probes[i].HTTPClientConfig.SetDirectory(dir)
	}
	c.Pi.resolvePaths(dir)
	c.Process.resolvePaths(dir)
}
