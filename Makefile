# The two commands of the README. Both install what they need (scripts/setup.sh).
.PHONY: dev test build bench fuzz

dev:
	bash scripts/setup.sh
	go run ./cmd/tzurot dev

test:
	bash scripts/test.sh

build:
	go build -o bin/tzurot ./cmd/tzurot

bench:
	bash scripts/bench.sh

fuzz:
	bash scripts/fuzz.sh
