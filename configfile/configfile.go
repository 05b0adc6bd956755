// Package configfile holds what both daemons' YAML configs need the same way,
// as Prometheus's config.LoadFile does for its own: a strict decoder whose
// errors name the key rather than Go types, secret files, paths relative to
// the config file, and http(s) URL validation that never repeats the URL.
package configfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Read returns the file's bytes and its directory, against which relative
// paths inside the file are resolved, as Prometheus does.
func Read(path string) (data []byte, dir string, err error) {
	data, err = os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	return data, filepath.Dir(path), nil
}

// Config is a daemon's config as Load and Parse fill it.
type Config interface {
	// ResolvePaths makes the config's relative paths relative to dir.
	ResolvePaths(dir string)
	// Validate fills in what depends on other keys and checks the config.
	Validate() error
}

// Load reads the file at path into cfg, which holds the defaults: decoded
// strictly, relative paths resolved against the file's directory, then
// validated, so a check of a path sees the file that will be used. Errors
// start with the path.
func Load(path string, cfg Config) error {
	data, dir, err := Read(path)
	if err != nil {
		return err
	}
	if err := Parse(data, dir, cfg); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Parse is Load for a document already read, its relative paths relative
// to dir.
func Parse(data []byte, dir string, cfg Config) error {
	if err := Decode(data, cfg); err != nil {
		return err
	}
	cfg.ResolvePaths(dir)
	return cfg.Validate()
}

// Decode decodes one YAML document into v strictly: an unknown or misspelt
// key is an error naming the key and its line. Keys missing from the
// document, and an empty document, keep the values v already holds (the
// defaults).
func Decode(data []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil && !errors.Is(err, io.EOF) {
		return friendlyYAMLError(err)
	}
	return nil
}

// yaml.v3 names our Go types in strict-mode errors ("field foo not found in
// type config.plain"); users need the key, not our type names.
var unknownFieldRE = regexp.MustCompile(`field (\S+) not found in type \S+`)

func friendlyYAMLError(err error) error {
	return errors.New(unknownFieldRE.ReplaceAllString(err.Error(), `unknown key "$1"`))
}

// ReadSecret returns a secret file's content without surrounding white
// space. Errors name the file, never its content.
func ReadSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", path)
	}
	return s, nil
}

// ValidateHTTPURL accepts absolute http(s) URLs only. The URL itself is not
// repeated in the error: it may carry credentials or a webhook's token.
func ValidateHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme is not http or https (scheme %q)", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("URL has no host")
	}
	return nil
}
