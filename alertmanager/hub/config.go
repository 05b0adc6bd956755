package hub

import (
	"errors"

	commonconfig "github.com/prometheus/common/config"
)

// Config is a hub target's own keys, inline in the relay's target: the
// bearer token each event carries.
type Config struct {
	BearerToken     commonconfig.Secret `yaml:"bearer_token,omitempty"`
	BearerTokenFile string              `yaml:"bearer_token_file,omitempty"`
}

// SetKeys are the keys of c that are set, for the relay to refuse them on
// another channel's target.
func (c *Config) SetKeys() []string {
	if c.BearerToken != "" || c.BearerTokenFile != "" {
		return []string{"bearer_token, bearer_token_file"}
	}
	return nil
}

// Authorize checks the token and makes http send it as
// "Authorization: Bearer". http_config reads a token file again on each
// request, so a rotated token applies without a reload.
func (c *Config) Authorize(http *commonconfig.HTTPClientConfig) error {
	if c.BearerToken == "" && c.BearerTokenFile == "" {
		return nil
	}
	if c.BearerToken != "" && c.BearerTokenFile != "" {
		return errors.New("bearer_token and bearer_token_file: set at most one")
	}
	if http.Authorization != nil || http.BasicAuth != nil {
		return errors.New("bearer_token: http_config already sets authorization")
	}
	http.Authorization = &commonconfig.Authorization{Type: "Bearer", Credentials: c.BearerToken, CredentialsFile: c.BearerTokenFile}
	return nil
}
