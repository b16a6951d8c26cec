# Ashrai — the two commands a newcomer needs are `make run` and `make test`.
.PHONY: run test build deps pg-start pg-stop clean openrpc bench

run:            ## build, start the local cluster under .data/, migrate, serve on 127.0.0.1:7420
	Scripts/run

test:           ## throwaway cluster + swift test (cluster removed on any exit)
	Scripts/test

build: deps
	swift build

deps:           ## install missing Debian packages
	Scripts/deps

pg-start:       ## start the .data/ cluster only
	Scripts/pg start .data/pg 54320

pg-stop:
	Scripts/pg stop .data/pg

clean:
	swift package clean

openrpc:        ## regenerate docs/openrpc.json from the method catalog
	swift build --product ashraid
	$$(swift build --show-bin-path)/ashraid openrpc > docs/openrpc.json

bench:          ## release build + throwaway cluster + server + load generator; prints ops/s, p50/p99 vs libpq
	Scripts/bench
