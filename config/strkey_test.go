package config

import (
	"strings"
	"testing"
)

// Account ids published in Stellar's Horizon documentation.
var knownAccountIDs = []string{
	"GD42RQNXTRIW6YR3E2HXV5T2AI27LBRHOERV2JIYNFMXOBA234SWLQQB",
	"GCEZWKCA5VLDNRLN3RPRJMRZOX3Z6G5CHCGSNFHEYVXM3XOJMDS674JZ",
	"GCXKG6RN4ONIEPCMNFB732A436Z5PNDSRLGWK7GBLCMQLIFO4S7EYWVU",
	"GBAUUA74H4XOQYRSOW2RZUA4QL5PB37U3JS5NE3RTB2ELJVMIF5RLMAG",
}

func TestValidateAccountIDAcceptsRealIDs(t *testing.T) {
	for _, id := range knownAccountIDs {
		if err := validateAccountID(id); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
}

func TestValidateAccountIDRejects(t *testing.T) {
	good := knownAccountIDs[0]
	for _, tc := range []struct{ name, id, want string }{
		{"empty", "", "must be 56 characters, not 0"},
		{"short", "GABC", "must be 56 characters, not 4"},
		{"one character mistyped", good[:10] + "A" + good[11:], "checksum does not match"},
		{"lower case", strings.ToLower(good), "must start with G"},
		{"muxed address", "M" + good[1:], "must start with G"},
		{"secret seed", "S" + good[1:], "must start with G"},
		{"not base32", good[:20] + "0" + good[21:], "is not base32"},
		{"wrong version byte", "GA" + good[2:], ""}, // either version or checksum: both are errors
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := validateAccountID(tc.id)
			if err == nil {
				t.Fatalf("%q accepted", tc.id)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want %q, got %q", tc.want, err)
			}
		})
	}
}

func TestCRC16XModemCheckValue(t *testing.T) {
	// The catalogued check value of CRC-16/XMODEM.
	if got := crc16XModem([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16XModem(123456789) = %#04x, want 0x31c3", got)
	}
}
