# cerebras-go developer workflow. `make help` lists the targets; CONTRIBUTING.md explains them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO          ?= go
BASE        ?= HEAD~1
STATICCHECK := $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Every package but the generated one (the oapi-codegen FAQ asks not to style-lint it).
LINT_PKGS    = $$($(GO) list ./... | grep -v '/gen$$')
LINT_FILES   = $$(git ls-files -co --exclude-standard '*.go' | grep -v '^gen/')

FUZZTIME    ?= 5s

# What `make generate` writes, and `make check-generated` compares.
GENERATED   := gen/ internal/decode/ internal/apierror/headers.gen.go client/types.gen.go client/options.gen.go cerebrastest/openapi.yaml

STEADY      := contract/node_modules/.bin/steady
REDOCLY     := contract/node_modules/.bin/redocly

# Targets run one at a time, even under make -j: scripts/leftovers.sh, run at
# the end of test-go, test and demo, must not find a sibling recipe still at work.
.NOTPARALLEL:

# A tag unique to this make run (kept by sub-makes), inherited by every process
# a recipe starts: scripts/leftovers.sh fails when a tagged process outlives the run.
CEREBRAS_GO_RUN ?= make-$(shell date +%s%N)-$(shell echo $$PPID)
export CEREBRAS_GO_RUN

.PHONY: help generate check-generated spec-validate spec-diff lint gates test-go fuzz bench bench-peers test demo contract-deps leftovers

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

generate: ## regenerate gen/, internal/decode/ (the decoders), internal/apierror/headers.gen.go (header names), client/types.gen.go, client/options.gen.go (header-parameter options) and the fake server's spec copy from openapi.yaml (idempotent)
	$(GO) generate ./gen/...
	cp openapi.yaml cerebrastest/openapi.yaml

check-generated: ## fail when the generated code ($(GENERATED)) is stale against openapi.yaml, or regenerated but not committed
	@scripts/check-generated.sh "$(GENERATED)"

spec-validate: ## validate openapi.yaml, its examples and the testdata/ fixtures with kin-openapi
	$(GO) run ./internal/cmd/specvalidate -spec openapi.yaml -fixtures testdata

spec-diff: ## fail on breaking changes between BASE:openapi.yaml (default HEAD~1) and the working copy
	scripts/spec-diff.sh $(BASE)

lint: $(STEADY) ## gofmt, go vet, staticcheck, a tidy go.mod (the root module's and otelcerebras/'s), and Redocly on openapi.yaml (gen/ is vetted, not style-linted)
	@out=$$(gofmt -l $(LINT_FILES)); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	@$(GO) mod tidy -diff || { echo "lint: go.mod/go.sum are not tidy: run go mod tidy" >&2; exit 1; }
	@cd otelcerebras && $(GO) mod tidy -diff || { echo "lint: otelcerebras/go.mod/go.sum are not tidy: run go mod tidy in otelcerebras/" >&2; exit 1; }
	$(GO) vet ./...
	cd otelcerebras && $(GO) vet ./...
	$(STATICCHECK) $(LINT_PKGS)
	cd otelcerebras && $(STATICCHECK) ./...
	@$(REDOCLY) lint openapi.yaml --config redocly.yaml --format stylish 2>&1 | grep -v '^\s*$$' | grep -v '║\|╔\|╚' || { echo "lint: Redocly found problems in openapi.yaml" >&2; exit 1; }

gates: ## prove in a scratch copy that the gates fail when they should: check-generated, spec-diff, spec-validate, leftovers, and the operation-coverage tests (scripts/test-gates.sh lists them)
	scripts/test-gates.sh

contract-deps: $(STEADY) ## install the pinned Steady mock server and Redocly CLI (npm ci)

$(STEADY): contract/package.json contract/package-lock.json
	@command -v npm >/dev/null || { echo "contract-deps: npm is required to install the Steady mock server (contract/package.json)" >&2; exit 1; }
	npm ci --prefix contract --no-audit --no-fund
	@touch $@

test-go: contract-deps ## go test -race ./... in both modules (the root and otelcerebras/; the contract tests need Steady, installed by contract-deps), the ≥ 100 MB memory tests without -race, then leftovers
	rc=0; $(GO) test -race -count=1 ./... || rc=$$?; \
	(cd otelcerebras && $(GO) test -race -count=1 ./...) || rc=$$?; \
	$(GO) test -count=1 -run 'ConstantMemory|MemoryIsFlat' ./client ./batchfile || rc=$$?; \
	scripts/leftovers.sh || rc=1; exit $$rc

leftovers: ## fail (and kill them) when processes started by this make run are still alive
	@scripts/leftovers.sh

fuzz: ## run every fuzz target for FUZZTIME each (default 5s; e.g. make fuzz FUZZTIME=10m)
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

bench: ## run the benchmarks; each reports its ratios against a baseline measured in the same run (BENCHMARKS.md); the ones beside openai-go and go-openai are `make bench-peers`
	$(GO) test -run '^$$' -bench . -benchtime 300x ./streaming ./client ./batchfile
	cd otelcerebras && $(GO) test -run '^$$' -bench . -benchtime 300x .
	$(GO) test -run '^$$' -bench . -benchtime 3x ./loadtest
	$(GO) test -count=1 -run 'HeapIsFlat|HeapIsLinear' -v ./streaming | grep -E 'live heap|^(ok|FAIL)'

bench-peers: ## run bench/peers, a module of its own so the peers never enter go.mod: time to first byte of a 256 KiB prompt through a 20 Mbit/s uplink, this SDK in each request encoding against openai-go and go-openai, and where auto's threshold lies (BENCHMARKS.md)
	cd bench/peers && $(GO) test -run '^$$' -bench . -benchtime 20x -count 5

test: lint spec-validate check-generated spec-diff gates test-go fuzz ## everything CI runs
	@scripts/leftovers.sh
	@echo "make test: all checks passed"

demo: ## the main job, offline: run every example against the local fake Cerebras API
	rc=0; scripts/demo.sh || rc=$$?; scripts/leftovers.sh >/dev/null || rc=1; exit $$rc
