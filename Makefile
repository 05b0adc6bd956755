# Quantum Resonance telemetry. `make test` is the whole suite, the one CI runs.
GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
export RESONANCE_TOOLS_BIN := $(TOOLS_BIN)

PROMTOOL  := $(TOOLS_BIN)/promtool

.PHONY: all build run test unit-test rules-test lint tools generate stack

all: lint build test

build:
	$(GO) build -o bin/ ./cmd/...

run:
	$(GO) run ./cmd/resonance-exporter

# Pinned Prometheus, promtool, Alertmanager and amtool, built once into .tools/bin.
tools:
	scripts/tools.sh

unit-test:
	$(GO) test -count=1 ./...

# The rule pack: the committed rules match the thresholds table, promtool
# validates and unit-tests them, amtool checks routing.
rules-test: tools
	$(GO) run ./cmd/resonancetool rules check
	$(PROMTOOL) check rules rules/resonance.rules.yml
	$(PROMTOOL) test rules rules/tests/*.test.yml
	$(PROMTOOL) check config prometheus/prometheus.yml
	scripts/check-alertmanager.sh

# Exporter, relay, Prometheus and Alertmanager on loopback until Ctrl-C.
stack: build tools
	$(GO) run ./cmd/resonancetool stack --bin bin --tools $(TOOLS_BIN)

# Regenerates every generated file from its source.
generate:
	$(GO) run ./cmd/resonancetool rules generate

test: tools lint unit-test rules-test

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
