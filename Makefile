# Quantum Resonance telemetry. `make test` is the whole suite, the one CI runs.
GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
export RESONANCE_TOOLS_BIN := $(TOOLS_BIN)

PROMTOOL  := $(TOOLS_BIN)/promtool
HELM      := $(TOOLS_BIN)/helm
GORELEASER := $(TOOLS_BIN)/goreleaser
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint
CHART     := deploy/helm/resonance-telemetry

FUZZTIME  ?= 10s

.PHONY: all build run test unit-test race-test rules-test generated-check examples-test fuzz-test lint tools generate stack bench \
	chart-test config-check systemd-check release-check

comma := ,

all: lint build test

# Version information for --version and resonance_*_build_info, as the
# release build (.goreleaser.yml) sets it.
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VERSION_PKG := github.com/prometheus/common/version
LDFLAGS   := -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
	-X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=$(shell whoami)@$(shell hostname) \
	-X $(VERSION_PKG).BuildDate=$(shell date -u +%Y%m%d-%H:%M:%S)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/ ./cmd/...

run:
	$(GO) run ./cmd/resonance-exporter

# Pinned Prometheus, promtool, Alertmanager and amtool, built once into .tools/bin.
tools:
	scripts/tools.sh

# Every Go test, the end-to-end test of the real stack (e2e/) included.
unit-test:
	$(GO) test -count=1 -timeout=20m ./...

# The concurrent packages once more under the race detector.
race-test:
	$(GO) test -race -count=1 ./ingest/... ./client ./collector ./alertmanager/... ./daemon ./ritual/schedule

# Generated files match their generators.
generated-check:
	$(GO) run ./cmd/resonancetool rules check
	$(GO) run ./cmd/resonancetool dashboards check

# The README's Python HubLogStream against a running exporter.
examples-test:
	scripts/check-python-example.sh

# Each decoder of untrusted input (the ingest API's, the relay's webhook
# readers), fuzzed briefly from its committed seed corpus.
fuzz-test:
	$(GO) test ./ingest -run='^$$' -fuzz='^FuzzDecodeLogs$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest -run='^$$' -fuzz='^FuzzDecodeEvents$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest -run='^$$' -fuzz='^FuzzDecodeBusiness$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./ingest -run='^$$' -fuzz='^FuzzParseISOFast$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./alertmanager/relay -run='^$$' -fuzz='^FuzzDecodeWebhook$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./alertmanager/discord -run='^$$' -fuzz='^FuzzEscapeMarkdown$$' -fuzztime=$(FUZZTIME)
	$(GO) test ./alertmanager/slack -run='^$$' -fuzz='^FuzzEscape$$' -fuzztime=$(FUZZTIME)

# The rule pack: the committed rules match the thresholds table, promtool
# validates and unit-tests them, amtool checks routing.
rules-test: tools
	$(PROMTOOL) check rules rules/resonance.rules.yml
	$(PROMTOOL) test rules rules/tests/*.test.yml
	$(PROMTOOL) check config prometheus/prometheus.yml
	scripts/check-alertmanager.sh

# The Helm chart: helm lint --strict with the default and the full values,
# then the Go test that renders both and decodes every object strictly.
chart-test: tools
	$(HELM) lint --strict $(CHART)
	$(HELM) lint --strict $(CHART) --values $(CHART)/ci/full-values.yaml
	$(GO) test -count=1 ./deploy/helm/...

# The release config: goreleaser check, then a snapshot release into dist/
# (both daemons for linux amd64/arm64, resonancetool also for darwin,
# archives and checksums) whose binaries must report the commit they were
# built from. The images (dockers_v2) need a container engine with buildx;
# without one (CI's machine) the snapshot builds everything else and
# goreleaser says it skipped them.
release-check: tools
	$(GORELEASER) check
	REVISION=$(REVISION) BRANCH=$(BRANCH) $(GORELEASER) release --snapshot --clean \
	  --skip=publish$(if $(shell docker buildx version >/dev/null 2>&1 && docker info >/dev/null 2>&1 && echo ok),,$(comma)docker)
	scripts/check-release.sh

# Both daemons' --config.check on every shipped config.
config-check:
	scripts/check-configs.sh

# systemd-analyze verify on deploy/systemd (skipped where systemd is absent).
systemd-check:
	scripts/check-systemd.sh

# Exporter, relay, Prometheus and Alertmanager on loopback until Ctrl-C. The
# built resonancetool, not `go run`: go run exits 1 when Ctrl-C reaches it,
# even after the stack stopped cleanly, and make would report an error.
stack: build tools
	bin/resonancetool stack --bin bin --tools $(TOOLS_BIN)

# Regenerates every generated file from its source.
generate:
	$(GO) run ./cmd/resonancetool rules generate
	$(GO) run ./cmd/resonancetool dashboards generate

# Benchmarks recorded in BENCHMARKS.md (need wrk, prometheus-node-exporter
# and prometheus-pushgateway from apt).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem ./cmd/resonance-exporter ./ingest ./alertmanager/...
	bench/scrape.sh
	bench/ingest.sh 15s
	bench/business.sh 15s
	bench/cardinality.sh
	bench/activeusers.sh

test: tools lint generated-check rules-test config-check chart-test systemd-check release-check unit-test race-test examples-test fuzz-test

# gofmt, go vet, a tidy go.mod and golangci-lint with .golangci.yml.
lint: tools
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
	$(GOLANGCI_LINT) run ./...
