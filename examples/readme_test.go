// Package examples holds the clients' examples; its test holds the README's
// quotes of them to the real files.
package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEQuotesThePythonFlushAsItIs: the README's python block that
// shows HubLogStream.flush and _post is, line for line, the example's code.
func TestREADMEQuotesThePythonFlushAsItIs(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("python", "hub_log_stream.py"))
	if err != nil {
		t.Fatal(err)
	}
	const start = "    async def flush(self):"
	_, quoted, ok := strings.Cut(string(readme), "```python\n"+start)
	if !ok {
		t.Fatal("README.md has no python block starting with HubLogStream.flush")
	}
	quoted, _, _ = strings.Cut(start+quoted, "```")
	i := strings.Index(string(src), start)
	if i < 0 {
		t.Fatal("hub_log_stream.py has no flush method")
	}
	code := string(src[i:])
	if !strings.HasPrefix(code, quoted) {
		t.Errorf("README.md quotes\n%s\nbut examples/python/hub_log_stream.py has\n%s", quoted, code[:min(len(code), len(quoted)+200)])
	}
	if !strings.Contains(quoted, "def _post(self, body):") {
		t.Error("README.md's quote ends before _post, which flush calls")
	}
}
