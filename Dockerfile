# syntax=docker/dockerfile:1
# ltk in one small image: the same static binary runs as master, worker or
# target (the first argument picks the role). Only cmd/ and internal/ are
# copied in, and .dockerignore keeps devicelist.csv, registry.csv, .env and
# runs/ out of the build context, so no key reaches any layer: the device
# list reaches the master at run time, from a Kubernetes Secret.
#
#   docker build --build-arg VERSION=v1.0.0 -t ltk .

# Build on the builder's own platform and cross-compile (no emulation).
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS=linux
ARG TARGETARCH=amd64
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY cmd ./cmd
COPY internal ./internal
RUN CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X github.com/ltk-dev/ltk/internal/cli.Version=$VERSION" -o /out/ltk ./cmd/ltk

# No shell, no package manager; user 65532 (nonroot).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/ltk /ltk
USER 65532:65532
# gRPC for workers, the web UI, MQTT (ltk target)
EXPOSE 5557 8089 1883
ENTRYPOINT ["/ltk"]
CMD ["--help"]
