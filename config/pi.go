package config

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	commonconfig "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"

	"github.com/quantum-resonance/telemetry/configfile"
)

// PiConfig configures the wallet collector, which reads the Pi chain through
// its Horizon API (Pi runs Stellar's Horizon: mainnet
// https://api.mainnet.minepi.com, testnet https://api.testnet.minepi.com).
type PiConfig struct {
	HorizonURL string `yaml:"horizon_url"`
	// WalletAddress is the watched account (G…); empty turns the collector off.
	WalletAddress string `yaml:"wallet_address"`
	// AuthorizedDestinations: an outgoing payment to any other account is
	// counted as unauthorized.
	AuthorizedDestinations []string `yaml:"authorized_destinations"`
	// StateFile keeps the Horizon paging cursor and the counters across
	// restarts and reloads.
	StateFile    string         `yaml:"state_file"`
	PollInterval model.Duration `yaml:"poll_interval"`
	// Timeout bounds each request to Horizon.
	Timeout model.Duration `yaml:"timeout"`
	// StartCursor is where paging starts when there is no state file: empty
	// means "at the newest payment" (history is not news); "0" means from the
	// oldest payment Horizon keeps, to audit history; any other value is a
	// payment's paging_token.
	StartCursor string `yaml:"start_cursor"`
	// HTTPClientConfig is the client for Horizon: TLS, proxy, and
	// authorization when a private Horizon needs it.
	HTTPClientConfig commonconfig.HTTPClientConfig `yaml:"http_config"`
}

// pagingTokenRE: Horizon's payment paging tokens are operation ids, decimal
// int64s.
var pagingTokenRE = regexp.MustCompile(`^[0-9]{1,19}$`)

func defaultPi() PiConfig {
	return PiConfig{
		HorizonURL:       "https://api.mainnet.minepi.com",
		StateFile:        "wallet-cursor",
		PollInterval:     model.Duration(30 * time.Second),
		Timeout:          model.Duration(10 * time.Second),
		HTTPClientConfig: commonconfig.DefaultHTTPClientConfig,
	}
}

func (c *PiConfig) validate() error {
	if err := configfile.ValidateHTTPURL(c.HorizonURL); err != nil {
		return fmt.Errorf("horizon_url: %w", err)
	}
	if c.PollInterval <= 0 {
		return errors.New("poll_interval: must be greater than 0")
	}
	if c.Timeout <= 0 {
		return errors.New("timeout: must be greater than 0")
	}
	if c.WalletAddress != "" {
		if err := validateAccountID(c.WalletAddress); err != nil {
			// Not quoted: a secret seed pasted here must not reach the log.
			return fmt.Errorf("wallet_address: not a valid account id: %w", err)
		}
		if c.StateFile == "" {
			return errors.New("state_file: must be set when wallet_address is")
		}
	}
	seen := map[string]bool{}
	for i, dest := range c.AuthorizedDestinations {
		if err := validateAccountID(dest); err != nil {
			return fmt.Errorf("authorized_destinations[%d]: not a valid account id: %w", i, err)
		}
		if seen[dest] {
			return fmt.Errorf("authorized_destinations[%d]: %q is listed twice", i, dest)
		}
		seen[dest] = true
	}
	if c.StartCursor != "" && !pagingTokenRE.MatchString(c.StartCursor) {
		return errors.New(`start_cursor: not a paging token (digits; "0" starts at the oldest payment)`)
	}
	if err := c.HTTPClientConfig.Validate(); err != nil {
		return fmt.Errorf("http_config: %w", err)
	}
	return nil
}

func (c *PiConfig) resolvePaths(dir string) {
	c.StateFile = commonconfig.JoinDir(dir, c.StateFile)
	c.HTTPClientConfig.SetDirectory(dir)
}
