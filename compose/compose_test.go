package compose

import (
	"bufio"
	"bytes"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/quantum-resonance/telemetry/alertmanager/relay"
	"github.com/quantum-resonance/telemetry/config"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = ".."

// servicePorts is the contract: the hostnames the shipped configs use and
// the port each service listens on.
var servicePorts = map[string]int{
	"resonance-exporter": 9861,
	"resonance-relay":    9862,
	"prometheus":         9090,
	"alertmanager":       9093,
	"grafana":            3000,
	"loki":               3100,
}

// composeFile is the part of the Compose specification the stack uses.
// Decoding is strict, so a misspelt key fails the test instead of being
// silently ignored, as it would be by docker compose for some keys.
type composeFile struct {
	Name     string             `yaml:"name"`
	Services map[string]service `yaml:"services"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
	Volumes map[string]*struct{} `yaml:"volumes"`
}

type service struct {
	Build *struct {
		Context string `yaml:"context"`
		Target  string `yaml:"target"`
	} `yaml:"build"`
	Image       string            `yaml:"image"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Volumes     []string          `yaml:"volumes"`
	Secrets     []string          `yaml:"secrets"`
	Ports       []string          `yaml:"ports"`
	DependsOn   []string          `yaml:"depends_on"`
	Restart     string            `yaml:"restart"`
}

// mount is one entry of a service's volumes.
type mount struct {
	source, target string
	bind           bool // a host path; otherwise a named volume
}

func (s service) mounts() []mount {
	var ms []mount
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		ms = append(ms, mount{
			source: parts[0],
			target: parts[1],
			bind:   strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/"),
		})
	}
	return ms
}

// configFile is the host path of the service's --config.file and its
// content.
func (s service) configFile(t *testing.T) (string, []byte) {
	t.Helper()
	p, _ := s.flag("config.file")
	host, _ := s.hostPath(p)
	data, err := os.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	return host, data
}

// hostPath is the host file behind a container path, through the service's
// bind mounts (the longest matching one wins, as in the container).
func (s service) hostPath(containerPath string) (string, bool) {
	best, found := "", false
	bestLen := -1
	for _, m := range s.mounts() {
		rel, ok := under(containerPath, m.target)
		if !ok || len(m.target) <= bestLen {
			continue
		}
		bestLen = len(m.target)
		best, found = filepath.Join(repoRoot, m.source, rel), m.bind
	}
	return best, found
}

// mountedVolume reports whether a container path lies in a named volume,
// where a daemon may write.
func (s service) mountedVolume(containerPath string) bool {
	for _, m := range s.mounts() {
		if _, ok := under(containerPath, m.target); ok && !m.bind {
			return true
		}
	}
	return false
}

func under(p, dir string) (string, bool) {
	p, dir = path.Clean(p), path.Clean(dir)
	if p == dir {
		return "", true
	}
	rest, ok := strings.CutPrefix(p, dir+"/")
	return rest, ok
}

// flag returns the value of a command-line flag (--name=value or
// -name=value) of the service.
func (s service) flag(name string) (string, bool) {
	for _, arg := range s.Command {
		for _, prefix := range []string{"--" + name + "=", "-" + name + "="} {
			if v, ok := strings.CutPrefix(arg, prefix); ok {
				return v, true
			}
		}
	}
	return "", false
}

// interpolation matches ${VAR} and ${VAR:-default}.
var interpolation = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*(?::-([^}]*))?\}`)

// loadCompose reads docker-compose.yml as docker compose would with no
// variables set: every ${VAR:-default} takes its default.
func loadCompose(t *testing.T) composeFile {
	t.Helper()
	data := readFile(t, "docker-compose.yml")
	data = interpolation.ReplaceAllFunc(data, func(m []byte) []byte {
		return interpolation.FindSubmatch(m)[1]
	})
	var c composeFile
	decodeStrict(t, "docker-compose.yml", data, &c)
	return c
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func decodeStrict(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// decodeLoose reads the part of a foreign config (Prometheus, Alertmanager,
// Grafana, Loki) the test looks at, ignoring the rest.
func decodeLoose(t *testing.T, name string, data []byte, v any) {
	t.Helper()
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func TestServicesAreTheOnesTheConfigsName(t *testing.T) {
	c := loadCompose(t)
	var have, want []string
	for name := range c.Services {
		have = append(have, name)
	}
	for name := range servicePorts {
		want = append(want, name)
	}
	slices.Sort(have)
	slices.Sort(want)
	if !slices.Equal(have, want) {
		t.Errorf("services %v, want %v", have, want)
	}
}

func TestEveryServiceListensOnItsPortAndPublishesItOnLoopback(t *testing.T) {
	c := loadCompose(t)
	for name, port := range servicePorts {
		s, ok := c.Services[name]
		if !ok {
			continue // reported by TestServicesAreTheOnesTheConfigsName
		}
		published := "127.0.0.1:" + strconv.Itoa(port) + ":" + strconv.Itoa(port)
		if !slices.Equal(s.Ports, []string{published}) {
			t.Errorf("%s: ports %v, want [%s]", name, s.Ports, published)
		}
		if got := listenPort(t, name, s); got != port {
			t.Errorf("%s: listens on port %d, want %d", name, got, port)
		}
	}
}

// listenPort is the port a service's own configuration makes it listen on.
func listenPort(t *testing.T, name string, s service) int {
	t.Helper()
	switch name {
	case "grafana":
		return atoi(t, s.Environment["GF_SERVER_HTTP_PORT"])
	case "loki":
		var cfg struct {
			Server struct {
				HTTPListenPort int `yaml:"http_listen_port"`
			} `yaml:"server"`
		}
		decodeLoose(t, "loki config", readMounted(t, name, s, "config.file"), &cfg)
		return cfg.Server.HTTPListenPort
	}
	addr, ok := s.flag("web.listen-address")
	if !ok {
		t.Errorf("%s: no --web.listen-address, the port would be the binary's default", name)
		return 0
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s: --web.listen-address=%s: %v", name, addr, err)
	}
	return atoi(t, port)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("port %q: %v", s, err)
	}
	return n
}

// readMounted reads the host file behind a service's config flag.
func readMounted(t *testing.T, name string, s service, flag string) []byte {
	t.Helper()
	p, ok := s.flag(flag)
	if !ok {
		t.Fatalf("%s: no %s flag", name, flag)
	}
	host, ok := s.hostPath(p)
	if !ok {
		t.Fatalf("%s: %s=%s is not in a bind mount of the service", name, flag, p)
	}
	data, err := os.ReadFile(host)
	if err != nil {
		t.Fatalf("%s: %s=%s: %v", name, flag, p, err)
	}
	return data
}

func TestEveryMountedHostPathExists(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, m := range s.mounts() {
			if !m.bind {
				if _, ok := c.Volumes[m.source]; !ok {
					t.Errorf("%s: volume %s is not declared", name, m.source)
				}
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, m.source)); err != nil {
				t.Errorf("%s: mounts %s: %v", name, m.source, err)
			}
		}
		for _, secret := range s.Secrets {
			if _, ok := c.Secrets[secret]; !ok {
				t.Errorf("%s: secret %s is not declared", name, secret)
			}
		}
	}
	for name, secret := range c.Secrets {
		if _, err := os.Stat(filepath.Join(repoRoot, secret.File)); err != nil {
			t.Errorf("secret %s: %v", name, err)
		}
	}
}

func TestConfigFlagsNameMountedFiles(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if name == "grafana" {
			continue // configured by environment and provisioning, see TestGrafana...
		}
		readMounted(t, name, s, "config.file")
	}
}

func TestPrometheusFindsItsRulesAndTargetsNameServices(t *testing.T) {
	c := loadCompose(t)
	prom := c.Services["prometheus"]
	var cfg struct {
		RuleFiles []string `yaml:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `yaml:"targets"`
				} `yaml:"static_configs"`
			} `yaml:"alertmanagers"`
		} `yaml:"alerting"`
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	decodeLoose(t, "prometheus.yml", readMounted(t, "prometheus", prom, "config.file"), &cfg)

	// Rule files are relative to the config file's directory in the
	// container, which is where the compose mounts must put them.
	configFile, _ := prom.flag("config.file")
	if len(cfg.RuleFiles) == 0 {
		t.Error("prometheus.yml: no rule_files")
	}
	for _, rf := range cfg.RuleFiles {
		inContainer := path.Join(path.Dir(configFile), rf)
		host, ok := prom.hostPath(inContainer)
		if !ok {
			t.Errorf("rule file %s (%s in the container) is not mounted", rf, inContainer)
			continue
		}
		if _, err := os.Stat(host); err != nil {
			t.Errorf("rule file %s: %v", rf, err)
		}
	}

	var targets []string
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	for _, am := range cfg.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	if !slices.Contains(targets, "resonance-exporter:9861") {
		t.Errorf("prometheus.yml does not scrape the exporter; targets %v", targets)
	}
	for _, target := range targets {
		host, port, err := net.SplitHostPort(target)
		if err != nil {
			t.Errorf("target %s: %v", target, err)
			continue
		}
		if host == "localhost" {
			// Prometheus scraping itself, inside its own container.
			host = "prometheus"
		}
		checkServiceAddress(t, c, "prometheus.yml target", host, port)
	}
}

// checkServiceAddress fails unless host is a compose service listening on
// port.
func checkServiceAddress(t *testing.T, c composeFile, what, host, port string) {
	t.Helper()
	want, ok := servicePorts[host]
	if _, inCompose := c.Services[host]; !ok || !inCompose {
		t.Errorf("%s %s:%s: no compose service %s", what, host, port, host)
		return
	}
	if port != strconv.Itoa(want) {
		t.Errorf("%s %s:%s: %s listens on %d", what, host, port, host, want)
	}
}

func checkServiceURL(t *testing.T, c composeFile, what, raw string) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Errorf("%s: %v", what, err)
		return
	}
	checkServiceAddress(t, c, what, u.Hostname(), u.Port())
}

func TestAlertmanagerReceiversPostToTheRelay(t *testing.T) {
	c := loadCompose(t)
	var cfg struct {
		Receivers []struct {
			Name           string `yaml:"name"`
			WebhookConfigs []struct {
				URL        string `yaml:"url"`
				HTTPConfig struct {
					Authorization struct {
						CredentialsFile string `yaml:"credentials_file"`
					} `yaml:"authorization"`
				} `yaml:"http_config"`
			} `yaml:"webhook_configs"`
		} `yaml:"receivers"`
	}
	decodeLoose(t, "alertmanager.yml", readMounted(t, "alertmanager", c.Services["alertmanager"], "config.file"), &cfg)
	relayTargets := relayTargetNames(t, c)
	n := 0
	for _, r := range cfg.Receivers {
		for _, w := range r.WebhookConfigs {
			n++
			checkServiceURL(t, c, "receiver "+r.Name, w.URL)
			// The relay's token reaches Alertmanager as a secret of both.
			secret, ok := strings.CutPrefix(w.HTTPConfig.Authorization.CredentialsFile, "/run/secrets/")
			if !ok || !slices.Contains(c.Services["alertmanager"].Secrets, secret) || !slices.Contains(c.Services["resonance-relay"].Secrets, secret) {
				t.Errorf("receiver %s: credentials_file %q is not a secret of alertmanager and the relay", r.Name, w.HTTPConfig.Authorization.CredentialsFile)
			}
			u, err := url.Parse(w.URL)
			if err != nil {
				continue
			}
			target, ok := strings.CutPrefix(u.Path, "/webhook/")
			if !ok || !slices.Contains(relayTargets, target) {
				t.Errorf("receiver %s posts to %s; the relay's config has targets %v", r.Name, w.URL, relayTargets)
			}
		}
	}
	if n == 0 {
		t.Error("alertmanager.yml has no webhook receiver")
	}
}

// relayTargetNames loads the relay's config as the relay does and lists its
// targets. Every file target must write into a volume: the image's root
// filesystem is not the place for deliveries.
func relayTargetNames(t *testing.T, c composeFile) []string {
	t.Helper()
	s := c.Services["resonance-relay"]
	_, data := s.configFile(t)
	// The relay reads its secrets at load: give it the files compose mounts.
	for _, name := range s.Secrets {
		data = bytes.ReplaceAll(data, []byte("/run/secrets/"+name), []byte(filepath.Join(repoRoot, c.Secrets[name].File)))
	}
	cfg, err := relay.Parse(data)
	if err != nil {
		t.Fatalf("relay config: %v", err)
	}
	if cfg.Auth.BearerTokensFile == "" {
		t.Error("relay config: no auth.bearer_tokens_file; anyone reaching the relay could post a fake alert")
	}
	var names []string
	for _, target := range cfg.Targets {
		names = append(names, target.Name)
		if target.Type == "file" && !s.mountedVolume(target.Path) {
			t.Errorf("relay target %s writes %s, outside every volume of the service", target.Name, target.Path)
		}
	}
	return names
}

func TestExporterConfigIsValidAndForwardsToLoki(t *testing.T) {
	c := loadCompose(t)
	s := c.Services["resonance-exporter"]
	host, _ := s.configFile(t)
	cfg, err := config.Load(host)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Ingest.Loki.URL == "" {
		t.Error("exporter config: no ingest.loki.url; the stack's Loki would get no logs")
	} else {
		checkServiceURL(t, c, "ingest.loki.url", cfg.Ingest.Loki.URL)
	}
	// Without keys only loopback may push, and the app is in another
	// container: the keys must be one of the service's secrets.
	secret, ok := strings.CutPrefix(cfg.Ingest.APIKeysFile, "/run/secrets/")
	if !ok || !slices.Contains(s.Secrets, secret) {
		t.Errorf("ingest.api_keys_file %q is not a secret of the service (%v)", cfg.Ingest.APIKeysFile, s.Secrets)
	}
	if !s.mountedVolume(cfg.Pi.StateFile) {
		t.Errorf("pi.state_file %s is outside every volume of the service", cfg.Pi.StateFile)
	}
}

func TestGrafanaReadsPrometheusAndTheGeneratedDashboards(t *testing.T) {
	c := loadCompose(t)
	g := c.Services["grafana"]

	var datasources struct {
		Datasources []struct {
			Name string `yaml:"name"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	decodeLoose(t, "datasources", readHost(t, g, "/etc/grafana/provisioning/datasources/prometheus.yml"), &datasources)
	prometheusURL := ""
	for _, ds := range datasources.Datasources {
		checkServiceURL(t, c, "datasource "+ds.Name, ds.URL)
		if ds.Type == "prometheus" {
			prometheusURL = ds.URL
		}
	}
	if prometheusURL != "http://prometheus:9090" {
		t.Errorf("Prometheus datasource URL %q, want http://prometheus:9090", prometheusURL)
	}

	var providers struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	decodeLoose(t, "dashboard providers", readHost(t, g, "/etc/grafana/provisioning/dashboards/resonance.yml"), &providers)
	if len(providers.Providers) == 0 {
		t.Fatal("no dashboard provider")
	}
	for _, p := range providers.Providers {
		dir, ok := g.hostPath(p.Options.Path)
		if !ok {
			t.Errorf("dashboard provider path %s is not mounted", p.Options.Path)
			continue
		}
		if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(files) == 0 {
			t.Errorf("dashboard provider path %s (%s): no dashboards", p.Options.Path, dir)
		}
	}
	home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	if host, ok := g.hostPath(home); !ok {
		t.Errorf("home dashboard %s is not mounted", home)
	} else if _, err := os.Stat(host); err != nil {
		t.Errorf("home dashboard: %v", err)
	}
}

// readHost reads the host file behind a container path of the service.
func readHost(t *testing.T, s service, containerPath string) []byte {
	t.Helper()
	host, ok := s.hostPath(containerPath)
	if !ok {
		t.Fatalf("%s is not mounted", containerPath)
	}
	data, err := os.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// isPinned reports whether an image reference names one image: by digest,
// or by a version tag. A tag without a digit ("latest", "stable", "nonroot")
// moves, and so does a missing tag.
func isPinned(image string) bool {
	if _, digest, ok := strings.Cut(image, "@sha256:"); ok {
		return regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(digest)
	}
	_, tag, ok := strings.Cut(path.Base(image), ":")
	return ok && strings.ContainsAny(tag, "0123456789")
}

func checkPinned(t *testing.T, what, image string) {
	t.Helper()
	if !isPinned(image) {
		t.Errorf("%s: image %q is not pinned to a version or digest", what, image)
	}
}

func TestIsPinned(t *testing.T) {
	for image, want := range map[string]bool{
		"prom/prometheus:v3.16.0": true,
		"grafana/grafana:12.4.3":  true,
		"gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab": true,
		"grafana/grafana":                           false,
		"grafana/grafana:latest":                    false,
		"gcr.io/distroless/static-debian12:nonroot": false,
		"localhost:5000/loki":                       false,
	} {
		if got := isPinned(image); got != want {
			t.Errorf("isPinned(%q) = %v, want %v", image, got, want)
		}
	}
}

func TestImagesArePinned(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		if s.Build != nil {
			continue // its base images are checked in the Dockerfile
		}
		checkPinned(t, name, s.Image)
	}
	for _, st := range loadDockerfile(t).stages {
		if st.from != "build" && !strings.HasPrefix(st.from, "scratch") {
			checkPinned(t, "Dockerfile stage "+st.name, st.from)
		}
	}
}

func TestDockerfileBuildsStaticBinariesForNonRootImages(t *testing.T) {
	c := loadCompose(t)
	df := loadDockerfile(t)
	for name, s := range c.Services {
		if s.Build == nil {
			continue
		}
		st, ok := df.stage(s.Build.Target)
		if !ok {
			t.Errorf("%s: build target %q is not a stage of the Dockerfile", name, s.Build.Target)
			continue
		}
		if user := st.user(); user == "" || user == "root" || strings.HasPrefix(user, "0:") || user == "0" {
			t.Errorf("stage %s runs as %q, want a non-root user", st.name, user)
		}
		wantEntrypoint := `["/bin/` + name + `"]`
		if ep := st.instruction("ENTRYPOINT"); ep != wantEntrypoint {
			t.Errorf("stage %s: ENTRYPOINT %s, want %s", st.name, ep, wantEntrypoint)
		}
		if !strings.Contains(df.text, "./cmd/"+name) {
			t.Errorf("the Dockerfile does not build ./cmd/%s", name)
		}
	}
	build, ok := df.stage("build")
	if !ok {
		t.Fatal("no build stage")
	}
	run := build.instructionContaining("RUN", "go build")
	if !strings.Contains(run, "CGO_ENABLED=0") {
		t.Errorf("go build without CGO_ENABLED=0: the binaries would need libc, which distroless/static lacks:\n%s", run)
	}
	// Other architectures are cross-compiled by Go on the build machine,
	// not built under emulation.
	if build.platform != "$BUILDPLATFORM" || !strings.Contains(run, "GOOS=${TARGETOS}") || !strings.Contains(run, "GOARCH=${TARGETARCH}") {
		t.Errorf("the build stage must run on $BUILDPLATFORM and cross-compile for $TARGETOS/$TARGETARCH: FROM --platform=%q, %s", build.platform, run)
	}
}

// dockerfile is a Dockerfile split into stages, with ARG defaults applied.
type dockerfile struct {
	text   string
	stages []stage
}

type stage struct {
	name, from   string
	platform     string   // FROM --platform=...
	instructions []string // "KEYWORD args", continuation lines joined
}

func (d dockerfile) stage(name string) (stage, bool) {
	i := slices.IndexFunc(d.stages, func(s stage) bool { return s.name == name })
	if i < 0 {
		return stage{}, false
	}
	return d.stages[i], true
}

// instruction returns the arguments of the stage's last instruction of that
// keyword, the one that takes effect.
func (s stage) instruction(keyword string) string {
	value := ""
	for _, ins := range s.instructions {
		if args, ok := strings.CutPrefix(ins, keyword+" "); ok {
			value = strings.TrimSpace(args)
		}
	}
	return value
}

func (s stage) user() string { return s.instruction("USER") }

func (s stage) instructionContaining(keyword, text string) string {
	for _, ins := range s.instructions {
		if strings.HasPrefix(ins, keyword+" ") && strings.Contains(ins, text) {
			return ins
		}
	}
	return ""
}

var (
	argDefault   = regexp.MustCompile(`^ARG ([A-Za-z_][A-Za-z0-9_]*)=(\S+)$`)
	fromPlatform = regexp.MustCompile(`^--platform=(\S+)\s+`)
)

func loadDockerfile(t *testing.T) dockerfile {
	t.Helper()
	text := string(readFile(t, "Dockerfile"))
	df := dockerfile{text: text}
	args := map[string]string{}
	for _, ins := range instructions(text) {
		if m := argDefault.FindStringSubmatch(ins); m != nil {
			args[m[1]] = m[2]
		}
		if from, ok := strings.CutPrefix(ins, "FROM "); ok {
			for k, v := range args {
				from = strings.ReplaceAll(from, "${"+k+"}", v)
			}
			platform := ""
			if m := fromPlatform.FindStringSubmatch(from); m != nil {
				platform, from = m[1], from[len(m[0]):]
			}
			image, name, _ := strings.Cut(from, " AS ")
			df.stages = append(df.stages, stage{name: strings.TrimSpace(name), from: strings.TrimSpace(image), platform: platform})
			continue
		}
		if n := len(df.stages); n > 0 {
			df.stages[n-1].instructions = append(df.stages[n-1].instructions, ins)
		}
	}
	if len(df.stages) == 0 {
		t.Fatal("Dockerfile: no FROM")
	}
	return df
}

// instructions splits a Dockerfile into instructions: comments dropped,
// backslash continuations joined.
func instructions(text string) []string {
	var out []string
	var cur strings.Builder
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if body, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(body + " ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

// The relay keeps its Discord message ids (and the rituals' last successes)
// in a named volume: `docker compose up` after a `down`, a rebuild or a
// restart still edits the firing messages on resolve.
func TestRelayKeepsItsMessageStoreInAVolume(t *testing.T) {
	c := loadCompose(t)
	s := c.Services["resonance-relay"]
	host, data := s.configFile(t)
	var cfg struct {
		Delivery struct {
			MessagesFile string `yaml:"messages_file"`
		} `yaml:"delivery"`
	}
	decodeLoose(t, host, data, &cfg)
	file := cfg.Delivery.MessagesFile
	if !path.IsAbs(file) || !s.mountedVolume(file) {
		t.Fatalf("relay delivery.messages_file %q: want an absolute path in one of the service's named volumes", file)
	}
	for _, m := range s.mounts() {
		if _, ok := under(file, m.target); ok {
			if _, declared := c.Volumes[m.source]; !declared {
				t.Errorf("volume %s is not declared at the top level", m.source)
			}
		}
	}
}
