# Ashrai — the two commands a newcomer needs are `make run` and `make test`.
.PHONY: run test build deps pg-start pg-stop pg-remove clean openrpc bench bench-outbox bench-bank bench-forecast bench-events fuzz chaos chaos-short restore-drill

run:            ## build, start this clone's cluster (Scripts/state-dir), migrate, serve on 127.0.0.1:7420
	Scripts/run

test:           ## throwaway cluster + swift test (cluster removed on any exit)
	Scripts/test

build: deps
	swift build

deps:           ## install missing Debian packages
	Scripts/deps

pg-start:       ## start this clone's cluster only; prints its port
	Scripts/pg start "$$(Scripts/state-dir)" auto

pg-stop:        ## stop this clone's cluster
	Scripts/pg stop "$$(Scripts/state-dir)"

pg-remove:      ## stop this clone's cluster and delete it (all its data)
	Scripts/pg remove "$$(Scripts/state-dir)"

clean:
	swift package clean

openrpc:        ## regenerate docs/openrpc.json and the README role table from the method catalog
	Scripts/openrpc

fuzz:           ## libFuzzer over the JSON parser, line framer, money/instant parsing and CSV reader (SECONDS_TO_FUZZ=60)
	Scripts/fuzz $${SECONDS_TO_FUZZ:-60}

chaos:          ## release build + every fault scenario (kill -9, PostgreSQL restarts/freeze, cut connections, slow and non-reading clients, SIGTERM, two daemons dunning); prints a table
	Scripts/chaos

chaos-short:    ## the short chaos run CI makes (about 2 minutes after the build)
	Scripts/chaos --short

restore-drill:  ## back up (roles + pg_dump) a throwaway cluster with a first week in it, restore on another, check a daemon answers the same
	Scripts/restore-drill

bench:          ## release build + throwaway cluster + server + load generator; prints ops/s, p50/p99 vs libpq
	Scripts/bench

bench-outbox:   ## only the outbox part of make bench: MESSAGES queued e-mails, DAEMONS workers, messages/s and duplicates
	Scripts/bench-outbox

bench-events:   ## only the live-events part of make bench: writers on one daemon, WATCHERS on another; event delay p50/p99, CPU
	Scripts/bench-events

bench-forecast: ## only the forecast backtest of make bench: reports.forecast from 13 weeks ago vs. actual and the due-date baseline
	Scripts/bench-forecast

bench-bank:     ## only the bank part of make bench: BANK_LINES camt.053 + MT940 lines against the 1M-invoice ledger, lines/s
	Scripts/bench-bank
