// Command resonancetool generates and checks the Quantum Resonance rule pack
// and dashboards from rules/thresholds.yml, runs the rituals' reports, sends
// test alerts and runs the loopback stack.
//
// Each subcommand lives in its own file and adds itself to the application
// with register, so a new one is one new file.
package main

import (
	"fmt"
	"io"
	"os"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/version"
)

// A setup adds a command, its flags and its action to the application.
// Actions write their normal output to stdout.
type setup func(app *kingpin.Application, stdout io.Writer)

var setups []setup

// register is called from the init function of each subcommand file.
func register(s setup) { setups = append(setups, s) }

func newApp(stdout io.Writer) *kingpin.Application {
	app := kingpin.New("resonancetool", "Generates and checks the Quantum Resonance rule pack.")
	app.Version(version.Print("resonancetool"))
	app.HelpFlag.Short('h')
	for _, s := range setups {
		s(app, stdout)
	}
	return app
}

func run(args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout)
	app.ErrorWriter(stderr)
	app.UsageWriter(stderr)
	if _, err := app.Parse(args); err != nil {
		fmt.Fprintf(stderr, "resonancetool: %v\n", err)
		return 1
	}
	return 0
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
