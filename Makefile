# Custody — the targets a newcomer needs. `make help` lists them.
SHELL := /usr/bin/env bash
DATA_DIR ?= ./data
# make run starts in dev mode (anonymous ingest) unless DEV=0.
DEV ?= 1
CONFIG ?=
BIN := bin/custody
GO_TEST_FLAGS ?=
BENCH_SIZE ?= small
DEMO_FLAGS ?=

.PHONY: help deps build run demo test bench generate fmt vet clean

help: ## List the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

deps: ## Install Go modules, chDB (npm, pinned, verified) and, as root, Debian's clickhouse-server
	@scripts/deps.sh

build: ## Build bin/custody
	go build -o $(BIN) ./cmd/custody

run: deps build ## Start the single-node server on embedded defaults (data in ./data)
	$(BIN) serve --data-dir $(DATA_DIR) $(if $(filter 1,$(DEV)),--dev) $(if $(CONFIG),--config $(CONFIG))

demo: build ## Load demo data from the five reference customers into a running `make run` (DEMO_FLAGS="--subjects 200")
	$(BIN) demo --data-dir $(DATA_DIR) $(if $(CONFIG),--config $(CONFIG)) $(DEMO_FLAGS)

test: deps ## Run every test (CI=true makes missing dependencies fail, not skip)
	@scripts/test.sh $(GO_TEST_FLAGS)

bench: deps ## Run the benchmark harness and print figures with their raw-engine ratios
	@scripts/bench.sh $(BENCH_SIZE)

generate: ## Regenerate generated code (go generate)
	go generate ./...

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	go vet ./...

clean: ## Remove build output (not ./data)
	rm -rf bin
