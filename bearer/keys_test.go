package bearer

import (
	"strings"
	"testing"
)

// Two keys at once (a rotation), comments and blank lines ignored; errors
// name the line, never the key.
func TestParse(t *testing.T) {
	ks, err := Parse([]byte("# rotated 2026-11\nold-key\n\n  new-key  \n"))
	if err != nil {
		t.Fatal(err)
	}
	if ks.Len() != 2 {
		t.Fatalf("Len() = %d, want 2", ks.Len())
	}
	for key, want := range map[string]bool{"old-key": true, "new-key": true, "new": false, "": false, "# rotated 2026-11": false} {
		if got := ks.Match(key); got != want {
			t.Errorf("Match(%q) = %v, want %v", key, got, want)
		}
	}
	for data, msg := range map[string]string{
		"# only a comment\n": "no key in the file",
		"a\nsecret key\n":    "line 2: a key must not contain white space",
	} {
		_, err := Parse([]byte(data))
		if err == nil || !strings.Contains(err.Error(), msg) || strings.Contains(err.Error(), "secret") {
			t.Errorf("Parse(%q) = %v, want an error with %q that does not quote the key", data, err, msg)
		}
	}
}

func TestEqual(t *testing.T) {
	d := Digest("s3cret")
	if !Equal(d, "s3cret") || Equal(d, "s3cre") || Equal(d, "s3cret ") {
		t.Error("Equal compares anything but the secret")
	}
}

func TestToken(t *testing.T) {
	for header, want := range map[string]string{"Bearer abc": "abc", "bearer abc": "abc", "BEARER  abc ": "abc"} {
		if got, ok := Token(header); !ok || got != want {
			t.Errorf("Token(%q) = %q, %v; want %q", header, got, ok, want)
		}
	}
	for _, header := range []string{"", "Bearer", "Basic abc", "Bearerabc"} {
		if got, ok := Token(header); ok {
			t.Errorf("Token(%q) = %q, want none", header, got)
		}
	}
}
