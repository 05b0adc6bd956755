# syntax=docker/dockerfile:1
#
# One recipe for both daemons, picked by target:
#   docker build --target exporter -t resonance-exporter .
#   docker build --target relay    -t resonance-relay .
# docker-compose.yml builds both. Static binaries (CGO_ENABLED=0) on
# distroless/static: no shell, no package manager, a non-root user.
# Other architectures are cross-compiled on the build machine's platform,
# not emulated:
#   docker buildx build --platform linux/amd64,linux/arm64 --target relay .

ARG GO_VERSION=1.26.8
# distroless/static-debian12:nonroot, pinned by digest (the tag moves with
# every Debian update). To update: crane digest gcr.io/distroless/static-debian12:nonroot
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot@sha256:afa5c872c891853ca7fcf1f12c3edb23f7eeef36189728842dd51042ff57f7ab

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: the layer stays cached until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# Set by buildx for the image being built (linux/arm64 → linux, arm64).
ARG TARGETOS TARGETARCH
ARG VERSION=dev
ARG REVISION=unknown
ARG BUILD_DATE=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath \
      -ldflags "-s -w \
        -X github.com/prometheus/common/version.Version=${VERSION} \
        -X github.com/prometheus/common/version.Revision=${REVISION} \
        -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
      -o /out/bin/ ./cmd/resonance-exporter ./cmd/resonance-relay ./cmd/resonancetool
# The state directories, owned by distroless' nonroot user (65532): a named
# volume mounted there starts with this ownership, so the daemons can write
# without running as root.
RUN mkdir -p /out/state/resonance-exporter /out/state/resonance-relay

FROM ${RUNTIME_IMAGE} AS relay
COPY --from=build /out/bin/resonance-relay /bin/resonance-relay
# The relay's ritual schedule runs resonancetool, found next to the relay.
COPY --from=build /out/bin/resonancetool /bin/resonancetool
COPY --from=build --chown=65532:65532 /out/state/resonance-relay /var/lib/resonance-relay
USER 65532:65532
WORKDIR /var/lib/resonance-relay
EXPOSE 9862
ENTRYPOINT ["/bin/resonance-relay"]

FROM ${RUNTIME_IMAGE} AS exporter
COPY --from=build /out/bin/resonance-exporter /bin/resonance-exporter
COPY --from=build --chown=65532:65532 /out/state/resonance-exporter /var/lib/resonance-exporter
USER 65532:65532
WORKDIR /var/lib/resonance-exporter
EXPOSE 9861
ENTRYPOINT ["/bin/resonance-exporter"]
