package configfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type section struct {
	Name  string `yaml:"name"`
	Limit int    `yaml:"limit"`
}

func TestDecodeKeepsDefaultsAndNamesUnknownKeys(t *testing.T) {
	for _, doc := range []string{"", "name: x\n"} {
		v := section{Name: "default", Limit: 7}
		if err := Decode([]byte(doc), &v); err != nil {
			t.Fatalf("%q: %v", doc, err)
		}
		if v.Limit != 7 {
			t.Errorf("%q: limit = %d, want the default 7", doc, v.Limit)
		}
	}
	var v section
	err := Decode([]byte("name: x\nlimt: 3\n"), &v)
	if err == nil || err.Error() != `yaml: unmarshal errors:`+"\n"+`  line 2: unknown key "limt"` {
		t.Fatalf("error = %v, want the key and its line without Go type names", err)
	}
}

func TestReadSecret(t *testing.T) {
	dir := t.TempDir()
	full, empty := filepath.Join(dir, "token"), filepath.Join(dir, "empty")
	if err := os.WriteFile(full, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadSecret(full); err != nil || s != "s3cret" {
		t.Errorf("ReadSecret = %q, %v; want the trimmed content", s, err)
	}
	if _, err := ReadSecret(empty); err == nil || !strings.Contains(err.Error(), "is empty") {
		t.Errorf("an empty secret file must be an error, got %v", err)
	}
	if _, err := ReadSecret(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing secret file must be an error")
	}
}

func TestValidateHTTPURL(t *testing.T) {
	for raw, want := range map[string]string{
		"https://hooks.example/x":            "",
		"ftp://user:hunter2@host/x":          `scheme is not http or https (scheme "ftp")`,
		"http://":                            "URL has no host",
		"http://user:hunter2@%zz":            "not a valid URL",
		"hooks.example/api/webhooks/hunter2": `scheme is not http or https (scheme "")`,
	} {
		err := ValidateHTTPURL(raw)
		switch {
		case want == "" && err != nil:
			t.Errorf("%s: %v", raw, err)
		case want != "" && (err == nil || err.Error() != want):
			t.Errorf("%s: error %v, want %q", raw, err, want)
		case err != nil && strings.Contains(err.Error(), "hunter2"):
			t.Errorf("%s: the error repeats the URL: %v", raw, err)
		}
	}
}
