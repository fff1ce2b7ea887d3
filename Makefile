GO      ?= go
BIN     := bin/a0bulk
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/a0bulk/a0bulk/cli.Version=$(VERSION)

.PHONY: build test demo bench lint clean

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) .

# The test command of README.md and .ci/run.
test:
	$(GO) test -race ./...

# A whole migration against the local sandbox tenant.
demo: build
	./scripts/demo.sh

# Speed, memory and fill figures (benchmarks, never timed tests).
bench: build
	./scripts/bench.sh

# staticcheck comes from the module proxy at a pinned version (no install step).
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

clean:
	rm -rf bin out
