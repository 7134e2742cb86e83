# ltk — build, demo, test and benchmark targets. `make help` lists them.
GO      ?= go
BIN     ?= bin/ltk
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/ltk-dev/ltk/internal/cli.Version=$(VERSION)

# The demo: 100 devices, 10 spawned per second, one minute, on the embedded target.
DEMO_DEVICES ?= 100
DEMO_RATE    ?= 10
DEMO_TIME    ?= 1m
# Fleet sizes for the end-to-end benchmark (comma separated).
FLEET        ?= 1000,10000
# ltk bench (make bench-e2e): fleets at 1 msg/s, then an idle fleet (one publish a minute), on each MQTT client.
BENCH_DEVICES   ?= 1000,10000,15000
BENCH_TIME      ?= 30s
BENCH_IDLE      ?= 19000
BENCH_IDLE_TIME ?= 60s
BENCH_CLIENTS   ?= lean,paho
BENCH_FLAGS     ?=
# ltk bench (make bench-scenario): the echo scenario against the built-in echo, alternated, busy and idle; then fleet.yaml.
BENCH_AB_DEVICES    ?= 2000
BENCH_AB_ROUNDS     ?= 4
BENCH_FLEET_DEVICES ?= 10000
# Protobuf code generators, pinned so that `make proto` regenerates the committed code byte for byte.
PROTOC_GEN_GO      ?= v1.36.12
PROTOC_GEN_GO_GRPC ?= v1.6.2
GOBIN              ?= $(shell $(GO) env GOPATH)/bin
# golangci-lint, built from the Go module proxy with this machine's Go (a binary built
# with an older Go refuses newer code) and kept in GOBIN; `make lint` rebuilds it only
# when the version differs.
GOLANGCI_LINT_VERSION ?= v2.15.0
GOLANGCI_LINT         ?= $(GOBIN)/golangci-lint

.PHONY: help build install demo test vet lint lint-install fuzz bench bench-micro bench-fleet soak clean proto

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/ltk (static, CGO disabled)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/ltk

install: ## go install ./cmd/ltk: ltk into GOBIN ($(GOBIN)), which should be on PATH
	CGO_ENABLED=0 GOBIN='$(GOBIN)' $(GO) install -trimpath -ldflags '$(LDFLAGS)' ./cmd/ltk
	@case ":$$PATH:" in *":$(GOBIN):"*) ;; *) echo 'add $(GOBIN) to PATH: export PATH="$$PATH:$(GOBIN)"';; esac

demo: build ## build, create 100 devices if there are none, run a one-minute headless test on the embedded target
	@[ -s devicelist.csv ] || ./$(BIN) devices create 1 $(DEMO_DEVICES) --alg ES256
	./$(BIN) run --headless -c $(DEMO_DEVICES) -r $(DEMO_RATE) -t $(DEMO_TIME)

vet: ## go vet and gofmt check
	$(GO) vet ./...
	@test -z "$$(gofmt -l cmd internal)" || { gofmt -l cmd internal; echo 'gofmt needed'; exit 1; }

lint-install: ## install the pinned golangci-lint into GOBIN unless that version is there (a few minutes, once)
	@$(GOLANGCI_LINT) version 2>/dev/null | grep -qF 'version $(GOLANGCI_LINT_VERSION:v%=%) ' || { \
		echo 'installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(GOBIN)'; \
		GOBIN='$(GOBIN)' $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION); }

lint: lint-install ## golangci-lint with .golangci.yml: package layering, error handling, process concerns, dead code
	$(GOLANGCI_LINT) run ./...
	cd echoappcf && $(GOLANGCI_LINT) run --config ../.golangci.yml ./...

test: vet lint ## vet, lint, then every test (with the race detector) and 500 inputs of each fuzzer; needs Debian's mosquitto for the Mosquitto tests
	$(GO) test -race -count=1 ./...
	cd echoappcf && $(GO) vet ./... && $(GO) test -race -count=1 ./...
	$(MAKE) fuzz FUZZTIME=500x

FUZZTIME ?= 60s
# The fuzzers are found in the test files (func FuzzX in internal/), so a new one runs without a
# change here. Each starts from its f.Add seeds and its committed corpus (testdata/fuzz/FuzzX).
# FUZZTIME is a time (60s) or a count of inputs (500x, what make test runs: a few seconds each).
# Go 1.26's fuzzing can fail a timed run as it ends, with "context deadline exceeded" and no input
# (golang/go#75804, fixed in Go 1.27): such an end is reported and is not a failure; a real finding
# always writes its input ("Failing input written to testdata/fuzz/...") and fails.
fuzz: ## every fuzzer in internal/ (devicelist, registry, PEM, .env, MQTT decoder, wire, worker reports, histograms, forms, windows, scenarios, JWTs), FUZZTIME each (default 60s)
	@grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' internal | sed 's|/[^/]*:func | |' | sort -u | \
	while read dir name; do \
		echo "== $$name ./$$dir ($(FUZZTIME))"; \
		if out=$$($(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) ./$$dir/ 2>&1); then \
			echo "$$out" | tail -n 3; \
		elif echo "$$out" | grep -q 'context deadline exceeded' && ! echo "$$out" | grep -q 'Failing input written'; then \
			echo "$$out" | grep 'fuzz: elapsed' | tail -n 1; \
			echo "ok (the run ended on Go's fuzztime race, golang/go#75804: nothing was found)"; \
		else \
			echo "$$out"; exit 1; \
		fi; \
	done

bench: bench-micro bench-fleet ## every benchmark: the hot paths, then the echo fleet at FLEET devices

bench-micro: ## hot-path benchmarks: histogram recording, payload encoding, JWTs, pacers, auth, ACL
	$(GO) test -run '^$$' -bench . -benchmem -skip BenchmarkEchoFleet ./internal/...

bench-fleet: ## CPU per echo and memory per device for FLEET devices (default 1000,10000; target in a child process)
	$(GO) test -run '^$$' -bench BenchmarkEchoFleet -benchtime 1x -timeout 30m ./internal/swarm -fleet=$(FLEET)

.PHONY: bench-scenario
bench-scenario: build ## ltk bench --scenario: echo.yaml vs the built-in echo (CPU per echo, RSS per idle device), then fleet.yaml (CPU per message)
	./$(BIN) bench --devices $(BENCH_AB_DEVICES) --duration $(BENCH_TIME) --scenario echo,builtin --rounds $(BENCH_AB_ROUNDS) $(BENCH_FLAGS)
	./$(BIN) bench --devices $(BENCH_AB_DEVICES) --interval 60s --duration $(BENCH_IDLE_TIME) --scenario echo,builtin --rounds $(BENCH_AB_ROUNDS) $(BENCH_FLAGS)
	./$(BIN) bench --devices $(BENCH_FLEET_DEVICES) --duration $(BENCH_TIME) --scenario fleet $(BENCH_FLAGS)

.PHONY: bench-e2e
bench-e2e: build ## ltk bench: CPU per echo, memory per device, connects/s for BENCH_DEVICES at 1 msg/s and BENCH_IDLE idle devices, on each MQTT client
	@for n in $$(echo $(BENCH_DEVICES) | tr , ' '); do \
		echo "== ltk bench --devices $$n --duration $(BENCH_TIME) --mqtt-client $(BENCH_CLIENTS) $(BENCH_FLAGS)"; \
		./$(BIN) bench --devices $$n --duration $(BENCH_TIME) --mqtt-client $(BENCH_CLIENTS) $(BENCH_FLAGS) || exit 1; \
	done
	@echo "== ltk bench --devices $(BENCH_IDLE) --interval 60s --duration $(BENCH_IDLE_TIME) --mqtt-client $(BENCH_CLIENTS) $(BENCH_FLAGS)"
	@./$(BIN) bench --devices $(BENCH_IDLE) --interval 60s --duration $(BENCH_IDLE_TIME) --mqtt-client $(BENCH_CLIENTS) $(BENCH_FLAGS)

# The soak test (scripts/soak.sh): SOAK_DEVICES devices at QoS 1 for SOAK_DURATION against ltk target in its own process.
SOAK_DURATION ?= 30m
SOAK_DEVICES  ?= 1000
soak: build ## soak: SOAK_DEVICES (1000) devices, QoS 1, SOAK_DURATION (30m), target restarted halfway; checks reconnects, counts, RSS slope
	LTK='$(CURDIR)/$(BIN)' SOAK_DURATION='$(SOAK_DURATION)' SOAK_DEVICES='$(SOAK_DEVICES)' scripts/soak.sh

.PHONY: e2e-kube
e2e-kube: ## a real single-node Kubernetes here (root, offline; scripts/localcluster): ltk setup, a distributed test, harvest, teardown, cluster down. The first run builds Kubernetes (~15 CPU-minutes), later ones reuse it
	scripts/localcluster/e2e.sh

proto: ## regenerate internal/wire/ltkv1 from ltk.proto (Debian's protoc 3.21 + the pinned Go plugins)
	@command -v protoc >/dev/null || { echo 'protoc missing: apt-get install -y protobuf-compiler'; exit 1; }
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO)
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC)
	cd internal/wire/ltkv1 && PATH="$(GOBIN):$$PATH" $(GO) generate .

clean: ## remove build output
	rm -rf bin
