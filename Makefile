# burnwatch — make targets. `make run` and `make test` are the README's two commands.
GO       ?= go
FUZZTIME ?= 30s

.PHONY: all build run replay test lint bench fuzz golden scale clean

all: build

# What `burnwatch version` (and --version) prints, stamped as Prometheus's
# builds are: into github.com/prometheus/common/version at link time.
VERSION    ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)
REVISION   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH     ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
BUILD_USER ?= $(shell whoami)@$(shell hostname)
BUILD_DATE ?= $(shell date -u +%Y%m%d-%H:%M:%S)
VERSION_PKG = github.com/prometheus/common/version
LDFLAGS    ?= -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Revision=$(REVISION) \
              -X $(VERSION_PKG).Branch=$(BRANCH) -X $(VERSION_PKG).BuildUser=$(BUILD_USER) \
              -X $(VERSION_PKG).BuildDate=$(BUILD_DATE)

## build: the burnwatch binary in bin/, stamped with version, revision, branch and build date
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/burnwatch ./cmd/burnwatch

## run: burnwatch serve on the embedded defaults (events source, SQLite in ./data/demo) with a traffic generator; db-2 fails after 30s and pages within two minutes
run:
	$(GO) run ./cmd/burnwatch demo

## replay: replay the shipped 20-minute outage on the embedded default config and print the pages it would send
replay:
	$(GO) run ./cmd/burnwatch replay --data testdata/replay/outage.om --output text

## test: lint, then every test with the race detector
test: lint
	$(GO) test -race -count=1 ./...

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## bench: the benchmarks the README quotes, on one core (writes a 2.3 GB recording and a 1.8 GB state of 30 days of 10,000 instances to $TMPDIR once)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -cpu 1 ./...

## fuzz: each fuzz target for FUZZTIME
fuzz:
	$(GO) test ./slo -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	$(GO) test ./source -run '^$$' -fuzz FuzzReader -fuzztime $(FUZZTIME)
	$(GO) test ./classify -run '^$$' -fuzz FuzzClassify -fuzztime $(FUZZTIME)
	$(GO) test ./classify -run '^$$' -fuzz FuzzRuleValidate -fuzztime $(FUZZTIME)
	$(GO) test ./classify -run '^$$' -fuzz FuzzLines -fuzztime $(FUZZTIME)

## golden: regenerate the recordings and golden files under testdata from their scenarios
golden:
	$(GO) test ./cmd/burnwatch -run Golden -update

## scale: the fleet-scale harness (docs/scale.md): N databases × D days in a real Prometheus, burnwatch serve against it; SCALE_FLAGS adds flags
N ?= 1000
D ?= 2
scale:
	$(GO) run ./internal/cmd/scale -databases $(N) -days $(D) $(SCALE_FLAGS)

clean:
	rm -rf bin
