package ingest

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

// KeySet is the Bearer keys the ingest API accepts. Several keys are valid
// at once so that a key can be rotated without a gap. Only SHA-256 digests
// are kept, so that comparison runs in constant time whatever the lengths.
type KeySet struct {
	digests [][sha256.Size]byte
}

// ParseKeys reads one key a line; blank lines and lines starting with # are
// ignored, surrounding white space is not part of a key. Errors never quote
// a key.
func ParseKeys(data []byte) (*KeySet, error) {
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

// LoadKeys reads the keys file at path.
func LoadKeys(path string) (*KeySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ks, err := ParseKeys(data)
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
