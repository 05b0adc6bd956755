package daemon

import (
	"fmt"
	"io"
)

// CheckConfig is --config.check: it loads and validates the configuration
// exactly as the daemon would at start (files it names included), prints the
// outcome and returns the process exit code: 0 when the daemon would start
// on it, 1 with the error otherwise. An empty path checks the built-in
// defaults.
func CheckConfig(path string, load func(path string) error, stdout, stderr io.Writer) int {
	name := path
	if name == "" {
		name = "built-in defaults"
	}
	if err := load(path); err != nil {
		// The loaders name the file in their errors already.
		fmt.Fprintf(stderr, "FAILED: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "SUCCESS: %s is valid\n", name)
	return 0
}
