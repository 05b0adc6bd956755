package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// PiConfig configures the wallet collector, which reads the Pi chain through
// its Horizon API.
type PiConfig struct {
	HorizonURL string `yaml:"horizon_url"`
	// WalletAddress is the watched account (G…); empty turns the collector off.
	WalletAddress string `yaml:"wallet_address"`
	// AuthorizedDestinations: an outgoing payment to any other account is
	// counted as unauthorized.
	AuthorizedDestinations []string `yaml:"authorized_destinations"`
	// StateFile keeps the Horizon paging cursor across restarts.
	StateFile    string         `yaml:"state_file"`
	PollInterval model.Duration `yaml:"poll_interval"`
}

func defaultPi() PiConfig {
	return PiConfig{
		HorizonURL:   "https://api.mainnet.minepi.com",
		StateFile:    "wallet-cursor",
		PollInterval: model.Duration(30 * time.Second),
	}
}

func (c *PiConfig) validate() error {
	if err := validateHTTPURL(c.HorizonURL); err != nil {
		return fmt.Errorf("horizon_url: %w", err)
	}
	if c.PollInterval <= 0 {
		return errors.New("poll_interval: must be greater than 0")
	}
	if c.WalletAddress != "" && c.StateFile == "" {
		return errors.New("state_file: must be set when wallet_address is")
	}
	return nil
}

func (c *PiConfig) resolvePaths(dir string) {
	c.StateFile = joinDir(dir, c.StateFile)
}
