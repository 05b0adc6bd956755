// Package bearer holds the Bearer keys a server accepts, kept as SHA-256
// digests and compared in constant time: the exporter's ingest API and the
// relay's webhook both authenticate with it.
package bearer

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySet is the Bearer keys a server accepts. Several keys are valid
// at once so that a key can be rotated without a gap. Only SHA-256 digests
// are kept, so that comparison runs in constant time whatever the lengths.
type KeySet struct {
	digests [][sha256.Size]byte
}

// Parse reads one key a line; blank lines and lines starting with # are
// ignored, surrounding white space is not part of a key. Errors never quote
// a key.
func Parse(data []byte) (*KeySet, error) {
	ks := &KeySet{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		k := strings.TrimSpace(sc.Text())
		if k == "" || strings.HasPrefix(k, "#") {
			continue
		}
		if strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: a key must not contain white space", line)
		}
		ks.digests = append(ks.digests, sha256.Sum256([]byte(k)))
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(ks.digests) == 0 {
		return nil, errors.New("no key in the file: every client would be refused")
	}
	return ks, nil
}

// Load reads the keys file at path.
func Load(path string) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ks, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return ks, nil
}

// Len is the number of keys.
func (ks *KeySet) Len() int { return len(ks.digests) }

// Match reports whether key is one of the set. Every key is compared, so the
// time taken tells neither which key matched nor how much of it.
func (ks *KeySet) Match(key string) bool {
	d := sha256.Sum256([]byte(key))
	match := 0
	for i := range ks.digests {
		match |= subtle.ConstantTimeCompare(d[:], ks.digests[i][:])
	}
	return match == 1
}

// Digest is the SHA-256 of a secret, kept instead of the secret.
func Digest(s string) *[sha256.Size]byte {
	d := sha256.Sum256([]byte(s))
	return &d
}

// Equal reports whether s is the secret of digest d, in constant time.
func Equal(d *[sha256.Size]byte, s string) bool {
	return subtle.ConstantTimeCompare(d[:], Digest(s)[:]) == 1
}

// Token returns the credentials of an Authorization header of the Bearer
// scheme. The scheme is case-insensitive (RFC 9110, 11.1): "bearer x" is
// accepted as "Bearer x" is.
func Token(authorization string) (string, bool) {
	scheme, token, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}
