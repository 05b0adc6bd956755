package channeltest

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// EncodingJSON is what encoding/json writes for v without HTML escaping,
// as the channels' messages are written: the reference for their
// hand-written encoders.
func EncodingJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// OddText is text no alert should carry but may: HTML, quotes and
// backslashes, control characters, invalid UTF-8, the separators
// JavaScript cannot hold in a string literal.
const OddText = "odd <text> & \"quotes\"\\ \x00\x1f\x7f\t\n\b\f \xff\xe2\x82 \u2028\u2029 ✓ 🚨"
