package config

import (
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
)

// Stellar (and so Pi) account ids are "strkeys": base32 (RFC 4648, no
// padding) of a version byte, the 32-byte ed25519 public key and a CRC16
// checksum. Checking them here turns a typo in a wallet address into a
// config error instead of a wallet that silently never matches.
const (
	accountIDLength  = 56
	accountIDVersion = 6 << 3 // "G" as the first base32 character
)

// validateAccountID returns nil when s is a valid account id (G…). The error
// says what is wrong, not the value: callers name the value themselves.
func validateAccountID(s string) error {
	if len(s) != accountIDLength {
		return fmt.Errorf("must be %d characters, not %d", accountIDLength, len(s))
	}
	if s[0] != 'G' {
		return errors.New("must start with G (muxed M… addresses and secret S… seeds are not account ids)")
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil {
		return errors.New("is not base32 (A-Z, 2-7)")
	}
	// 56 base32 characters are 35 bytes: version, key, checksum.
	payload, sum := raw[:len(raw)-2], binary.LittleEndian.Uint16(raw[len(raw)-2:])
	if payload[0] != accountIDVersion {
		return errors.New("has the wrong version byte for an account id")
	}
	if crc16XModem(payload) != sum {
		return errors.New("checksum does not match (a mistyped character?)")
	}
	return nil
}

// crc16XModem is CRC-16/XMODEM (polynomial 0x1021, initial value 0), the
// checksum strkeys carry.
func crc16XModem(data []byte) uint16 {
	var crc uint16
	for _, b := range data {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc
}
