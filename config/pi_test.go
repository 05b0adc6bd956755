package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testWallet      = "GD42RQNXTRIW6YR3E2HXV5T2AI27LBRHOERV2JIYNFMXOBA234SWLQQB"
	testDestination = "GCEZWKCA5VLDNRLN3RPRJMRZOX3Z6G5CHCGSNFHEYVXM3XOJMDS674JZ"
)

func TestPiDefaults(t *testing.T) {
	pi := Default().Pi
	if pi.HorizonURL != "https://api.mainnet.minepi.com" || pi.StateFile != "wallet-cursor" ||
		time.Duration(pi.PollInterval) != 30*time.Second || time.Duration(pi.Timeout) != 10*time.Second ||
		pi.StartCursor != "" || !pi.HTTPClientConfig.FollowRedirects {
		t.Fatalf("pi defaults: %+v", pi)
	}
}

func TestPiFullSection(t *testing.T) {
	cfg, err := Parse([]byte(`
pi:
  horizon_url: https://api.testnet.minepi.com
  wallet_address: ` + testWallet + `
  authorized_destinations: [` + testDestination + `]
  state_file: /var/lib/resonance/wallet.json
  poll_interval: 1m
  timeout: 5s
  start_cursor: "0"
  http_config:
    proxy_url: http://proxy.internal:3128
`))
	if err != nil {
		t.Fatal(err)
	}
	pi := cfg.Pi
	if pi.WalletAddress != testWallet || pi.AuthorizedDestinations[0] != testDestination ||
		time.Duration(pi.PollInterval) != time.Minute || time.Duration(pi.Timeout) != 5*time.Second ||
		pi.StartCursor != "0" || pi.HTTPClientConfig.ProxyURL.Host != "proxy.internal:3128" {
		t.Fatalf("pi: %+v", pi)
	}
}

func TestPiInvalid(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"short wallet", "pi:\n  wallet_address: GABC\n",
			`pi.wallet_address: not a valid account id: must be 56 characters, not 4`},
		{"mistyped wallet", "pi:\n  wallet_address: " + testWallet[:55] + "A\n",
			`pi.wallet_address: not a valid account id: checksum does not match`},
		{"bad destination", "pi:\n  authorized_destinations: [" + testDestination + ", GXYZ]\n",
			`pi.authorized_destinations[1]: not a valid account id`},
		{"duplicate destination", "pi:\n  authorized_destinations: [" + testDestination + ", " + testDestination + "]\n",
			`pi.authorized_destinations[1]: "` + testDestination + `" is listed twice`},
		{"wallet without state file", "pi:\n  wallet_address: " + testWallet + "\n  state_file: \"\"\n",
			"pi.state_file: must be set when wallet_address is"},
		{"zero timeout", "pi:\n  timeout: 0s\n", "pi.timeout: must be greater than 0"},
		{"start cursor", "pi:\n  start_cursor: now\n", `pi.start_cursor: not a paging token`},
		{"http_config", "pi:\n  http_config:\n    bearer_token: a\n    bearer_token_file: b\n", "at most one of bearer_token"},
		{"unknown key", "pi:\n  wallet: x\n", `unknown key "wallet"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

// A Stellar secret seed (S…) pasted where an account id belongs must not
// reach the log or an HTTP answer through the config error.
func TestRejectedValuesAreNotEchoed(t *testing.T) {
	const seed = "SBZVMB74Z76QZ3ZOY7UTDFYKMEGKW5XFJEB6PFKBF4UYSSWHG4EDH7PY"
	for _, doc := range []string{
		"pi:\n  wallet_address: " + seed + "\n",
		"pi:\n  authorized_destinations: [" + seed + "]\n",
		"pi:\n  start_cursor: " + seed + "\n",
		"pi:\n  horizon_url: \"" + seed + ":x@horizon\"\n",
		"ingest:\n  loki: {url: \"" + seed + "://loki\"}\n",
	} {
		_, err := Parse([]byte(doc))
		if err == nil {
			t.Fatalf("%s: accepted", doc)
		}
		if strings.Contains(err.Error(), seed[:8]) {
			t.Errorf("error quotes the rejected value: %v", err)
		}
	}
}

func TestPiPathsResolveAgainstTheConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exporter.yml")
	doc := "pi:\n  state_file: state/wallet.json\n  http_config:\n    authorization:\n      credentials_file: horizon.key\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Pi.StateFile != filepath.Join(dir, "state/wallet.json") {
		t.Errorf("state_file = %q", cfg.Pi.StateFile)
	}
	if got := cfg.Pi.HTTPClientConfig.Authorization.CredentialsFile; got != filepath.Join(dir, "horizon.key") {
		t.Errorf("credentials_file = %q", got)
	}
}
