package daemon

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCheckConfig(t *testing.T) {
	var out, errs bytes.Buffer
	if code := CheckConfig("good.yml", func(string) error { return nil }, &out, &errs); code != 0 {
		t.Fatalf("valid config: exit %d", code)
	}
	if !strings.Contains(out.String(), "SUCCESS: good.yml") || errs.Len() != 0 {
		t.Errorf("stdout %q stderr %q", out.String(), errs.String())
	}
	out.Reset()
	code := CheckConfig("bad.yml", func(string) error { return errors.New("bad.yml: targets[0]: url_file: no such file") }, &out, &errs)
	if code != 1 {
		t.Fatalf("invalid config: exit %d, want 1", code)
	}
	if !strings.Contains(errs.String(), "FAILED: bad.yml: targets[0]: url_file") || out.Len() != 0 {
		t.Errorf("stdout %q stderr %q", out.String(), errs.String())
	}
	errs.Reset()
	if CheckConfig("", func(string) error { return nil }, &out, &errs); !strings.Contains(out.String(), "built-in defaults") {
		t.Errorf("empty path: %q", out.String())
	}
}
