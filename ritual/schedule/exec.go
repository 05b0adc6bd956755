package schedule

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// killGrace (a variable for the tests) is how long a run may outlive the section's timeout, which it
// enforces itself, before it is killed.
var killGrace = 10 * time.Second

// outputLimit bounds what the relay keeps of a run's output for its log:
// the end, where the error is.
const outputLimit = 4 << 10

// resolveCommand makes a command written as a path relative to dir; a bare
// name stays a name, for PATH.
func resolveCommand(dir, command string) string {
	if command == "" || filepath.IsAbs(command) || !strings.ContainsRune(command, filepath.Separator) {
		return command
	}
	return filepath.Join(dir, command)
}

// LookCommand finds the resonancetool that runs the rituals: the section's
// command, else the resonancetool next to the running executable, else
// resonancetool on PATH. The relay calls it at load so that a missing tool
// fails then, not at 08:00.
func (c *Config) LookCommand() (string, error) {
	if c.Command != "" {
		p, err := exec.LookPath(c.Command)
		if err != nil {
			return "", fmt.Errorf("rituals.command: %w", err)
		}
		return p, nil
	}
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), DefaultCommand)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(DefaultCommand)
	if err != nil {
		return "", fmt.Errorf("rituals: no %s next to the relay or on PATH, and no rituals.command: %w", DefaultCommand, err)
	}
	return p, nil
}

// Exec is the relay's RunFunc: it runs
//
//	resonancetool ritual <ritual> --from-relay-config --relay.config.file <configFile> --at <at> --send <target>…
//
// which reads Prometheus, Alertmanager, the thresholds, the time zone, the
// night and the timeout from the same rituals: section and sends with the
// relay's formatters, limits and retries. A run succeeds when the command
// exits 0: every target got the report.
func Exec(configFile string) RunFunc {
	return func(ctx context.Context, cfg Config, e Entry, at time.Time) error {
		path, err := cfg.LookCommand()
		if err != nil {
			return err
		}
		args := []string{"ritual", e.Ritual, "--from-relay-config", "--relay.config.file", configFile, "--at", at.UTC().Format(time.RFC3339)}
		for _, t := range e.Targets {
			args = append(args, "--send", t)
		}
		cmd := exec.CommandContext(ctx, path, args...)
		out := &tail{limit: outputLimit}
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = killGrace
		if err := cmd.Run(); err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("%w (%w)", err, ctx.Err())
			}
			return fmt.Errorf("%s ritual %s: %w: %s", filepath.Base(path), e.Ritual, err, out.String())
		}
		return nil
	}
}

// tail keeps the last limit bytes written to it.
type tail struct {
	limit int
	buf   []byte
	cut   bool
}

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

// String is the kept output on one line.
func (t *tail) String() string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(t.buf, []byte("?")))), " ")
	if s == "" {
		return "no output"
	}
	if t.cut {
		s = "…" + s
	}
	return s
}
