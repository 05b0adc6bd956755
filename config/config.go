// Package config loads, defaults and validates the exporter's configuration.
//
// The YAML is decoded strictly: an unknown or misspelt key is an error naming
// the key and its line. Every section lives in its own file (system.go,
// ingest.go, probes.go, pi.go) with its defaults and its validation.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"go.yaml.in/yaml/v3"
)

// DefaultService is the service name of the seed.
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

// Load reads, decodes and validates the file at path. Relative paths inside
// the file are resolved against the file's directory, as Prometheus does.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// Parse decodes and validates a YAML document; missing keys keep their
// defaults.
func Parse(data []byte) (*Config, error) {
	cfg := Default()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// An empty file (io.EOF) means "all defaults".
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, friendlyYAMLError(err)
	}
	if err := cfg.Validate(); err != nil {
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

func (c *Config) resolvePaths(dir string) {
	c.Ingest.resolvePaths(dir)
	for i := range c.Probes {
		c.Probes[i].HTTPClientConfig.SetDirectory(dir)
	}
	c.Pi.resolvePaths(dir)
	c.Process.resolvePaths(dir)
}

func joinDir(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// yaml.v3 names its own Go types in strict-mode errors ("field foo not found
// in type config.plain"); users need the key, not our type names.
var unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type \S+`)

func friendlyYAMLError(err error) error {
	msg := unknownFieldRE.ReplaceAllString(err.Error(), `unknown key "$1"`)
	return errors.New(msg)
}
