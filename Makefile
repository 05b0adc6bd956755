# Quantum Resonance telemetry. `make test` is the whole suite, the one CI runs.
GO        ?= go
TOOLS_BIN := $(CURDIR)/.tools/bin
export RESONANCE_TOOLS_BIN := $(TOOLS_BIN)

.PHONY: all build run test unit-test lint tools

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

test: tools lint unit-test

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) mod tidy -diff
