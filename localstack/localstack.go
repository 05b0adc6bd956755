// Package localstack runs the whole chain on loopback with real binaries:
// resonance-exporter, resonance-relay, Prometheus and one or more clustered
// Alertmanagers. It renders the shipped configs (prometheus/prometheus.yml,
// rules/resonance.rules.yml, alertmanager/alertmanager.yml) with only the
// addresses filled in, or, for tests, with short intervals as well.
//
// `make stack` and the end-to-end test both use it.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Options says what to start and where.
type Options struct {
	Root     string // repository root (shipped configs)
	Dir      string // working directory: rendered configs, data, logs
	Bin      string // directory holding resonance-exporter and resonance-relay
	ToolsBin string // directory holding prometheus and alertmanager (.tools/bin)

	Alertmanagers int  // how many clustered Alertmanagers (default 1)
	Fast          bool // short scrape, evaluation, `for`, range and group timings
	// StandardPorts listens on the usual ports (9861, 9862, 9090, 9093 and
	// up) instead of free ones: what a person running the stack expects.
	StandardPorts bool

	ExporterConfig string // YAML for --config.file; empty: built-in defaults
	// RelayConfig is YAML for --config.file; empty: the built-in targets.
	// Either way the stack adds auth.bearer_tokens_file with the token
	// Alertmanager sends (Stack.RelayTokenFile) unless it sets auth.
	RelayConfig string
}

// Stack is a running chain.
type Stack struct {
	ExporterURL      string
	RelayURL         string
	RelayTokenFile   string // the bearer token Alertmanager sends the relay
	PrometheusURL    string
	AlertmanagerURLs []string
	// DocsURL serves the repository's docs/ at /docs/: the runbooks and
	// SLO docs the stack's alerts link to.
	DocsURL string

	procs map[string]*process
	order []string
	docs  *http.Server
}

// process is a started component; exited closes when it has ended.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// component is one process to start.
type component struct {
	name, binary, readyPath string
	addr                    string
	args                    []string
}

// Start renders the configs and starts every component, waiting until each
// answers its readiness endpoint. On error what was started is stopped.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.Alertmanagers <= 0 {
		opts.Alertmanagers = 1
	}
	for _, sub := range []string{"logs", "data"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, sub), 0o755); err != nil {
			return nil, err
		}
	}
	addrs, err := freeAddrs(4 + 2*opts.Alertmanagers)
	if opts.StandardPorts {
		addrs = standardAddrs(opts.Alertmanagers)
	}
	if err != nil {
		return nil, err
	}
	exporterAddr, relayAddr, promAddr, docsAddr := addrs[0], addrs[1], addrs[2], addrs[3]
	var amAddrs, clusterAddrs []string
	for i := range opts.Alertmanagers {
		amAddrs = append(amAddrs, addrs[4+2*i])
		clusterAddrs = append(clusterAddrs, addrs[5+2*i])
	}
	docsServer, err := serveDocs(opts.Root, docsAddr)
	if err != nil {
		return nil, fmt.Errorf("docs server: %w", err)
	}
	started := false
	defer func() {
		if !started {
			_ = docsServer.Close()
		}
	}()

	r := renderer{opts: opts, tokenFile: filepath.Join(opts.Dir, "relay-token"), docsURL: "http://" + docsAddr, addresses: map[string][]string{
		"resonance-exporter:9861": {exporterAddr},
		"resonance-relay:9862":    {relayAddr},
		"alertmanager:9093":       amAddrs,
		"localhost:9090":          {promAddr},
	}}
	files, err := r.renderAll()
	if err != nil {
		return nil, err
	}

	var comps []component
	exporterArgs := []string{"--web.listen-address=" + exporterAddr, "--log.level=debug"}
	if files.exporter != "" {
		exporterArgs = append(exporterArgs, "--config.file="+files.exporter)
	}
	comps = append(comps, component{"resonance-exporter", filepath.Join(opts.Bin, "resonance-exporter"), "/-/ready", exporterAddr, exporterArgs})
	relayArgs := []string{"--web.listen-address=" + relayAddr, "--log.level=debug", "--config.file=" + files.relay}
	comps = append(comps, component{"resonance-relay", filepath.Join(opts.Bin, "resonance-relay"), "/-/ready", relayAddr, relayArgs})
	for i, addr := range amAddrs {
		args := []string{
			"--config.file=" + files.alertmanager,
			"--storage.path=" + filepath.Join(opts.Dir, "data", fmt.Sprintf("alertmanager-%d", i)),
			"--web.listen-address=" + addr,
			// Silence links in messages point where it listens, not at
			// the machine's hostname.
			"--web.external-url=http://" + addr,
			"--cluster.listen-address=" + clusterAddrs[i],
			"--cluster.advertise-address=" + clusterAddrs[i],
		}
		if opts.Alertmanagers == 1 {
			args[4], args[5] = "--cluster.listen-address=", "--log.level=info"
		}
		for j, peer := range clusterAddrs {
			if j != i && opts.Alertmanagers > 1 {
				args = append(args, "--cluster.peer="+peer)
			}
		}
		if opts.Fast {
			args = append(args, "--cluster.settle-timeout=3s", "--cluster.peer-timeout=2s", "--cluster.pushpull-interval=5s")
		}
		comps = append(comps, component{fmt.Sprintf("alertmanager-%d", i), filepath.Join(opts.ToolsBin, "alertmanager"), "/-/ready", addr, args})
	}
	comps = append(comps, component{"prometheus", filepath.Join(opts.ToolsBin, "prometheus"), "/-/ready", promAddr, []string{
		"--config.file=" + files.prometheus,
		"--storage.tsdb.path=" + filepath.Join(opts.Dir, "data", "prometheus"),
		"--web.listen-address=" + promAddr,
		// Alerts' generatorURL (their Source link) points where it
		// listens, not at the machine's hostname.
		"--web.external-url=http://" + promAddr,
	}})

	s := &Stack{
		ExporterURL:    "http://" + exporterAddr,
		RelayURL:       "http://" + relayAddr,
		RelayTokenFile: r.tokenFile,
		PrometheusURL:  "http://" + promAddr,
		DocsURL:        "http://" + docsAddr,
		procs:          map[string]*process{},
		docs:           docsServer,
	}
	for _, a := range amAddrs {
		s.AlertmanagerURLs = append(s.AlertmanagerURLs, "http://"+a)
	}
	started = true
	for _, c := range comps {
		if err := s.start(ctx, opts.Dir, c); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context, dir string, c component) error {
	logPath := filepath.Join(dir, "logs", c.name+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	cmd := exec.Command(c.binary, c.args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(p.exited)
	}()
	s.procs[c.name] = p
	s.order = append(s.order, c.name)

	url := "http://" + c.addr + c.readyPath
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready at %s within a minute (log: %s)", c.name, url, logPath)
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before becoming ready (log: %s)", c.name, logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Kill stops one component at once (SIGKILL), as a crash would.
func (s *Stack) Kill(name string) error {
	p, ok := s.procs[name]
	if !ok {
		return fmt.Errorf("no component %q", name)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		return err
	}
	<-p.exited
	return nil
}

// Stop ends every component, newest first, with SIGTERM and then SIGKILL.
func (s *Stack) Stop() {
	if s.docs != nil {
		_ = s.docs.Close()
	}
	for i := len(s.order) - 1; i >= 0; i-- {
		p := s.procs[s.order[i]]
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	}
}

// standardAddrs: exporter, relay, Prometheus, docs, then for each Alertmanager
// its web and cluster ports (9093/9094, 9095/9096, ...).
func standardAddrs(alertmanagers int) []string {
	addrs := []string{"127.0.0.1:9861", "127.0.0.1:9862", "127.0.0.1:9090", strings.TrimPrefix(StandardDocsURL, "http://")}
	for i := range alertmanagers {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", 9093+2*i), fmt.Sprintf("127.0.0.1:%d", 9094+2*i))
	}
	return addrs
}

// freeAddrs reserves n loopback ports. They are released before use, so a
// race with another process is possible but harmless on a test machine.
func freeAddrs(n int) ([]string, error) {
	var addrs []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	return addrs, nil
}

// FindRoot walks up from the working directory to the folder holding go.mod.
func FindRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
