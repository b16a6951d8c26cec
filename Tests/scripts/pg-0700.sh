#!/usr/bin/env bash
# Scripts/pg and Scripts/state-dir from a clone in a 0700 folder (root's /root, a Debian 12
# home): the cluster lives where the postgres OS user can reach it, two clones get two
# clusters on two ports, and a data folder inside the 0700 folder is refused with a clear
# message instead of initdb's "Permission denied". Run by `make test` (Scripts/test).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
if [[ $(id -u) -ne 0 ]]; then
  echo "pg-0700: skipped (only root runs the cluster as another OS user)"
  exit 0
fi
unset ASHRAI_STATE_DIR
parent=$(mktemp -d /tmp/ashrai-0700.XXXXXX)
chmod 700 "$parent"
states=()
cleanup() {
  for state in "${states[@]}"; do "$repo/Scripts/pg" remove "$state" >/dev/null 2>&1 || true; done
  rm -rf "$parent"
}
trap cleanup EXIT
checks=0
fail() { echo "pg-0700: FAILED: $*" >&2; exit 1; }

for name in clone clone2; do
  mkdir -p "$parent/$name/Scripts"
  cp "$repo/Scripts/pg" "$repo/Scripts/state-dir" "$parent/$name/Scripts/"
done

# 1. From inside the 0700 clone, the state folder is outside it and the cluster starts.
cd "$parent/clone"
state1=$(Scripts/state-dir)
states+=("$state1")
[[ $state1 == /var/lib/ashrai/clone-* ]] || fail "state folder $state1 is not under /var/lib/ashrai"
port1=$(PG_FAST=1 Scripts/pg start "$state1" auto) || fail "the cluster did not start from a clone in a 0700 folder"
[[ $(psql -h 127.0.0.1 -p "$port1" -U postgres -Atc "SELECT 41 + 1" postgres) == 42 ]] || fail "the cluster on $port1 does not answer"
checks=$((checks + 1))

# 2. A second clone gets its own cluster on another port; the first keeps its own.
cd "$parent/clone2"
state2=$(Scripts/state-dir)
states+=("$state2")
[[ $state2 != "$state1" ]] || fail "two clones share the state folder $state1"
port2=$(PG_FAST=1 Scripts/pg start "$state2" auto) || fail "the second clone's cluster did not start"
[[ $port2 != "$port1" ]] || fail "two clusters on one port $port1"
[[ $(psql -h 127.0.0.1 -p "$port2" -U postgres -Atc "SELECT 1" postgres) == 1 ]] || fail "the second cluster does not answer"
checks=$((checks + 1))

# 3. Starting again reuses the running cluster and its port.
cd "$parent/clone"
[[ $(Scripts/pg start "$state1" auto) == "$port1" ]] || fail "a second start did not reuse port $port1"
checks=$((checks + 1))

# 4. Data inside the 0700 folder: refused at once, naming the folder that blocks.
if message=$(Scripts/pg start "$parent/clone/.data/pg" auto 2>&1); then
  fail "a cluster under a 0700 folder was reported started"
fi
[[ $message == *"cannot reach"*"$parent"*"700"* ]] || fail "unclear message: $message"
checks=$((checks + 1))

# 5. remove stops the cluster and deletes its folder.
Scripts/pg remove "$state1"
[[ ! -e $state1 ]] || fail "remove left $state1"
if psql -h 127.0.0.1 -p "$port1" -U postgres -Atc "SELECT 1" postgres >/dev/null 2>&1; then fail "the removed cluster still answers"; fi
checks=$((checks + 1))

echo "pg-0700: all $checks checks passed"
