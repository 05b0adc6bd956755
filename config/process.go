package config

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"

	commonconfig "github.com/prometheus/common/config"
)

// ProcessConfig selects the service's own process on this host or pod, for
// the process collector. Empty, the collector is off. One way to find the
// process: pid_file, or a regular expression on the executable name (name)
// or the command line (cmdline); exactly one process must match. cgroup, a
// cgroup v2 directory, adds the cgroup's memory and limit; alone it exports
// those only.
type ProcessConfig struct {
	// PIDFile holds the service's pid, as written by systemd's PIDFile= or
	// the service itself.
	PIDFile string `yaml:"pid_file"`
	// Name is matched against the whole executable name (/proc/<pid>/comm,
	// at most 15 characters on Linux), anchored like a relabel regex.
	Name Regexp `yaml:"name"`
	// Cmdline is matched against the whole command line, arguments joined
	// by spaces, anchored.
	Cmdline Regexp `yaml:"cmdline"`
	// Cgroup is a cgroup v2 directory, e.g. /sys/fs/cgroup (the container's
	// own) or /sys/fs/cgroup/system.slice/app.service.
	Cgroup string `yaml:"cgroup"`
}

// Enabled reports whether anything is to be watched.
func (p *ProcessConfig) Enabled() bool {
	return p.PIDFile != "" || p.Name.Regexp != nil || p.Cmdline.Regexp != nil || p.Cgroup != ""
}

// FindsProcess reports whether a process is to be found (not a cgroup alone).
func (p *ProcessConfig) FindsProcess() bool {
	return p.PIDFile != "" || p.Name.Regexp != nil || p.Cmdline.Regexp != nil
}

func (p *ProcessConfig) validate() error {
	n := 0
	for _, set := range []bool{p.PIDFile != "", p.Name.Regexp != nil, p.Cmdline.Regexp != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("pid_file, name, cmdline: give one way to find the process, not several")
	}
	if p.Cgroup != "" && !filepath.IsAbs(p.Cgroup) {
		return fmt.Errorf("cgroup: %q is not an absolute path", p.Cgroup)
	}
	return nil
}

func (p *ProcessConfig) resolvePaths(dir string) {
	p.PIDFile = commonconfig.JoinDir(dir, p.PIDFile)
}

// Regexp is a regular expression matched against a whole string, as
// Prometheus' relabel regexes are. The zero value matches nothing and means
// "not set".
type Regexp struct {
	*regexp.Regexp
	original string
}

// UnmarshalYAML compiles the expression anchored at both ends.
func (r *Regexp) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if s == "" {
		*r = Regexp{}
		return nil
	}
	re, err := regexp.Compile("^(?:" + s + ")$")
	if err != nil {
		return fmt.Errorf("regular expression %q: %w", s, err)
	}
	*r = Regexp{Regexp: re, original: s}
	return nil
}

// MarshalYAML writes the expression as written.
func (r Regexp) MarshalYAML() (any, error) { return r.original, nil }

// String is the expression as written.
func (r Regexp) String() string { return r.original }
