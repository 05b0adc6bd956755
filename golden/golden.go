// Package golden holds the one -update flag of the project's tests: run a
// test with -update to rewrite its reviewed expected-output files
// (golden messages, expected exposition, the ritual examples) from the
// current output, then review the diff. Every test helper that writes such
// files reads it here, so none depends on which defines the flag first.
package golden

import "flag"

var update = flag.Bool("update", false, "rewrite the reviewed expected-output files (testdata/, docs/examples/) with the current output")

// Updating reports whether the test run was given -update.
func Updating() bool { return *update }
