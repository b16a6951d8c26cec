#!/usr/bin/env bash
# A database that stops answering (issue 18, part 1), with a real SIGSTOP: a private cluster, ashraid on it with a
# 2 s call timeout (ASHRAI_DATABASE_CALL_TIMEOUT_SECONDS), then the postmaster and every backend stopped. Every
# request sent during the freeze — on logged-in connections, more of them than the pool has connections, and a
# login on a new connection — must be answered 503 `retryable` within the call timeout plus the client-side
# second plus a margin, never left hanging; after SIGCONT the next request must succeed at once.
#   bash Tests/scripts/db-freeze.sh     (make test runs it; BIN= a directory holding ashraid)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${BIN:-$(swift build --show-bin-path)}
[[ -x $bin/ashraid ]] || { echo "db-freeze: build ashraid first (swift build)" >&2; exit 1; }
dir=$(mktemp -d /tmp/ashrai-freeze.XXXXXX); chmod 755 "$dir"
server_pid=""
cleanup() {
  pkill -CONT -u postgres -f -- "-D $dir/pg" 2>/dev/null || true
  [[ -f $dir/pg/postmaster.pid ]] && { kill -CONT "$(head -1 "$dir/pg/data/postmaster.pid")" 2>/dev/null || true; pkill -CONT -P "$(head -1 "$dir/pg/data/postmaster.pid")" 2>/dev/null || true; }
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null || true; wait 2>/dev/null || true
  Scripts/pg stop "$dir/pg" >/dev/null 2>&1 || true; rm -rf "$dir"
}
trap cleanup EXIT INT TERM
pgport=$((20000 + RANDOM % 12000))
PG_FAST=1 Scripts/pg start "$dir/pg" "$pgport" >/dev/null
createdb -h 127.0.0.1 -p "$pgport" -U postgres ashrai
export ASHRAI_DATABASE_URL="postgresql://ashrai_app@127.0.0.1:$pgport/ashrai"
export ASHRAI_MIGRATION_DATABASE_URL="postgresql://postgres@127.0.0.1:$pgport/ashrai"
export ASHRAI_DATABASE_CALL_TIMEOUT_SECONDS=2 ASHRAI_DATABASE_POOL_SIZE=4 ASHRAI_DUNNING_SCHEDULE=off ASHRAI_LOG_LEVEL=error
"$bin/ashraid" migrate >/dev/null
password="freeze test passphrase $RANDOM$RANDOM"
echo "$password" | "$bin/ashraid" create-admin --username admin --password-stdin >/dev/null
# A random port below the kernel's ephemeral range (32768…), another if it turns out to be taken.
port=""
for _ in 1 2 3 4 5; do
  candidate=$((20000 + RANDOM % 12000))
  "$bin/ashraid" serve --listen "127.0.0.1:$candidate" &
  server_pid=$!
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    # Listening, and it is this ashraid that listens (not whatever else held the port).
    if ss -ltnpH "sport = :$candidate" 2>/dev/null | grep -q "pid=$server_pid,"; then port=$candidate; break; fi
    sleep 0.1
  done
  [[ -n $port ]] && break
  kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""
done
[[ -n $port ]] || { echo "db-freeze: ashraid did not start" >&2; exit 1; }
python3 - "$port" "$password" "$dir/pg/data/postmaster.pid" <<'PY'
import json, os, signal, socket, subprocess, sys, threading, time
port, password, pidfile = int(sys.argv[1]), sys.argv[2], sys.argv[3]
BOUND = 2 + 1 + 2.5          # call timeout + the client-side second + a margin for a loaded machine

class Client:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port)); self.s.settimeout(30); self.f = self.s.makefile("rb"); self.n = 0
    def call(self, method, params=None):
        self.n += 1
        msg = {"jsonrpc": "2.0", "id": self.n, "method": method}
        if params is not None: msg["params"] = params
        self.s.sendall((json.dumps(msg) + "\n").encode())
        line = self.f.readline()
        if not line: raise RuntimeError("connection closed without an answer")
        return json.loads(line)

def timed(client, method, params=None):
    t = time.monotonic()
    try: reply = client.call(method, params)
    except Exception as e: reply = {"exception": str(e)}
    return reply, time.monotonic() - t

def postgres_pids():
    master = int(open(pidfile).readline())
    children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
    return [master] + [int(p) for p in children]

clients = [Client() for _ in range(6)]          # more than the pool's 4 connections
for c in clients:
    assert "result" in c.call("auth.login", {"username": "admin", "password": password}), "login before the freeze"
assert "result" in clients[0].call("customers.list"), "a read before the freeze"

pids = postgres_pids()
for pid in pids: os.kill(pid, signal.SIGSTOP)
frozen_at = time.monotonic()
results = [None] * len(clients)
def ask(i): results[i] = timed(clients[i], "customers.list")
threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(clients))]
for t in threads: t.start()
fresh = Client()
login = timed(fresh, "auth.login", {"username": "admin", "password": password})
for t in threads: t.join()
failures = []
rows = []
for name, (reply, seconds) in [("customers.list #%d" % i, r) for i, r in enumerate(results)] + [("auth.login on a new connection", login)]:
    code = reply.get("error", {}).get("code")
    retryable = reply.get("error", {}).get("data", {}).get("retryable")
    rows.append("| %s | %s | %.2f |" % (name, code if code is not None else reply.get("exception", "answered"), seconds))
    if code != 503 or retryable is not True: failures.append("%s answered %s" % (name, reply))
    if seconds > BOUND: failures.append("%s took %.2f s (bound %.1f s)" % (name, seconds, BOUND))
held = time.monotonic() - frozen_at
time.sleep(max(0, 12 - held))                 # the freeze lasts at least 12 s, well past the bound
for pid in pids: os.kill(pid, signal.SIGCONT)
thawed = time.monotonic()
recovered = None
while time.monotonic() - thawed < 10:
    reply, _ = timed(clients[0], "customers.list")
    if "result" in reply: recovered = time.monotonic() - thawed; break
    time.sleep(0.05)
print("database frozen (SIGSTOP of %d postgres processes) for %.1f s, call timeout 2 s" % (len(pids), time.monotonic() - frozen_at - (time.monotonic() - thawed)))
print("| request during the freeze | answer | seconds |\n|---|---|---:|")
print("\n".join(rows))
print("first success after SIGCONT: %s" % ("%.2f s" % recovered if recovered is not None else "none within 10 s"))
if recovered is None or recovered > 3: failures.append("no recovery within 3 s of SIGCONT")
if failures:
    print("db-freeze FAILED:\n  " + "\n  ".join(failures)); sys.exit(1)
print("db-freeze: ok")
PY
