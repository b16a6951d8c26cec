#!/usr/bin/env python3
"""The chaos suite (issue 18, part 3): real faults against a real ashraid on a real PostgreSQL.

Every scenario gets a database of its own (a copy of a migrated template) in one private cluster that runs with
fsync on, one or two `ashraid serve` processes, and clients that speak the wire protocol over TCP. Clients retry
what the server did not answer (a cut connection, a 503) with the same idempotency key until it is answered, as
a careful client would. Afterwards the ledger is read with psql as the superuser (past row-level security) and
the scenario's invariant is asserted:

  lost      an acknowledged write that is not in the database as acknowledged (id, amount)
  doubled   one write (one idempotency key) that is in the database more than once, a letter for a customer and
            level written twice, a second call task for one customer
  ledger    every invoice's paid amount is the sum of its allocations, every payment's applied amount too, and
            no customer's open invoices exceed its credit limit (the limit decision races under 32 clients)
  recovery  the first acknowledged write after the fault ends comes within a bound
  RSS       the daemon's peak resident memory stays under a bound

Usage (Scripts/chaos builds the release binaries and calls this):
  python3 Tests/chaos/chaos.py --bin DIR [--short] [--only NAME,NAME] [--keep]
Prints one table row per scenario and exits 1 if any invariant failed.
"""
from decimal import Decimal
import argparse, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PGBIN = sorted((os.path.join("/usr/lib/postgresql", v, "bin") for v in os.listdir("/usr/lib/postgresql")),
               key=lambda p: [int(x) for x in p.split("/")[-2].split(".") if x.isdigit()])[-1]
CALL_TIMEOUT = 3            # database.callTimeoutSeconds for every daemon here
PASSWORD = "chaos suite passphrase %d" % random.randrange(10**9)
TODAY = time.strftime("%Y-%m-%d")


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def free_port():
    """A port below the kernel's ephemeral range (32768…), so an outgoing connection cannot be holding it."""
    while True:
        port = random.randrange(20000, 32000)
        with socket.socket() as s:
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue


def as_postgres(args, **kw):
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + args
    return subprocess.run(args, cwd="/", **kw)


# ---------------------------------------------------------------------------------------------------------------------
# PostgreSQL

class Cluster:
    """One private cluster, fsync on (a kill -9 must not lose a committed write)."""

    def __init__(self, directory):
        self.dir = directory
        self.port = None

    def start(self, port=None):
        for _ in range(5):
            candidate = port or free_port()
            result = subprocess.run([os.path.join(ROOT, "Scripts/pg"), "start", self.dir, str(candidate)],
                                    capture_output=True, text=True, env=dict(os.environ, PG_FAST="0"))
            if result.returncode == 0:
                self.port = candidate
                return
            if port:  # the same port after a crash: the old processes may still be on their way out
                time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not start: " + result.stderr[-2000:])

    def restart_on_same_port(self, deadline=60):
        end = time.monotonic() + deadline
        while True:
            result = subprocess.run([os.path.join(ROOT, "Scripts/pg"), "start", self.dir, str(self.port)],
                                    capture_output=True, text=True)
            if result.returncode == 0:
                return
            if time.monotonic() > end:
                raise RuntimeError("PostgreSQL did not come back: " + result.stderr[-2000:])
            time.sleep(0.2)

    def stop(self, mode):
        as_postgres([os.path.join(PGBIN, "pg_ctl"), "-D", os.path.join(self.dir, "data"), "-m", mode, "-w", "stop"],
                    capture_output=True)

    def pids(self):
        try:
            master = int(open(os.path.join(self.dir, "data", "postmaster.pid")).readline())
        except (OSError, ValueError):
            return []
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout.split()
        return [master] + [int(p) for p in children]

    def signal_all(self, sig):
        for pid in self.pids():
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def kill9(self):
        pids = self.pids()
        self.signal_all(signal.SIGKILL)
        for pid in pids:  # gone (reaped by init) before the restart looks at the pid file
            for _ in range(100):
                if not os.path.exists("/proc/%d" % pid):
                    break
                time.sleep(0.05)

    def psql(self, database, sql):
        result = subprocess.run(["psql", "-qAtX", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(self.port),
                                 "-U", "postgres", "-d", database, "-c", sql], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError("psql: " + result.stderr)
        return [line.split("\t") for line in result.stdout.splitlines() if line]


# ---------------------------------------------------------------------------------------------------------------------
# The daemon

class Daemon:
    def __init__(self, suite, database, name, extra_env=None):
        self.suite, self.database, self.name = suite, database, name
        self.env = suite.daemon_env(database)
        self.env.update(extra_env or {})
        self.process = None
        self.port = None
        self.peak_rss = 0
        suite.daemons.append(self)   # stopped at the end whatever happens
        self.exits = []

    def start(self):
        for _ in range(5):
            port = self.port or free_port()
            logfile = open(os.path.join(self.suite.dir, "%s-%s.log" % (self.database, self.name)), "ab")
            self.process = subprocess.Popen([os.path.join(self.suite.bin, "ashraid"), "serve", "--listen", "127.0.0.1:%d" % port],
                                            env=self.env, stdout=logfile, stderr=logfile)
            logfile.close()
            end = time.monotonic() + 30
            while time.monotonic() < end and self.process.poll() is None:
                out = subprocess.run(["ss", "-ltnpH", "sport = :%d" % port], capture_output=True, text=True).stdout
                if "pid=%d," % self.process.pid in out:
                    self.port = port
                    return
                time.sleep(0.05)
            self.stop()
        raise RuntimeError("ashraid did not start (see %s)" % self.suite.dir)

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def rss_mib(self, field="VmRSS"):
        try:
            for line in open("/proc/%d/status" % self.process.pid):
                if line.startswith(field):
                    return int(line.split()[1]) / 1024
        except (OSError, AttributeError):
            pass
        return 0

    def sample(self):
        self.peak_rss = max(self.peak_rss, self.rss_mib("VmHWM"))

    def signal(self, sig):
        self.sample()
        self.process.send_signal(sig)

    def wait(self, timeout):
        start = time.monotonic()
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = None
        self.exits.append((code, time.monotonic() - start))
        return code, time.monotonic() - start

    def stop(self):
        if self.process and self.process.poll() is None:
            self.sample()
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ---------------------------------------------------------------------------------------------------------------------
# Clients

class Unanswered(Exception):
    """No answer: the connection closed, was cut, or timed out."""


class Connection:
    def __init__(self, port, timeout=30):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(timeout)
        self.file = self.sock.makefile("rb")
        self.n = 0

    def send(self, method, params=None):
        self.n += 1
        message = {"jsonrpc": "2.0", "id": self.n, "method": method}
        if params is not None:
            message["params"] = params
        self.sock.sendall((json.dumps(message) + "\n").encode())

    def receive(self):
        line = self.file.readline()
        if not line:
            raise Unanswered("closed")
        return json.loads(line)

    def call(self, method, params=None):
        self.send(method, params)
        return self.receive()

    def close(self, reset=False):
        try:
            if reset:  # an RST rather than a FIN
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            self.file.close()
            self.sock.close()
        except OSError:
            pass


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.operations = 0          # logical operations started
        self.acknowledged = 0        # answered with a result or a business refusal (422)
        self.refused = 0
        self.unanswered = 0          # given up on at the end, never answered
        self.replays = 0             # sends of an operation after its first
        self.cuts = 0
        self.errors = []             # unexpected error replies
        self.latencies = []          # seconds per answered send (results and refusals)
        self.answer_waits = []       # (sent_at, seconds) of every send that was answered, 503s included
        self.ack_times = []
        self.dropped_in_flight = []  # sent_at of sends whose connection closed without an answer
        self.writes = {}             # idempotency key -> (method, id, amount)

    def add(self, **counts):
        with self.lock:
            for key, value in counts.items():
                setattr(self, key, getattr(self, key) + value)


class Workload:
    """Staff at work: invoices (the credit decision), payments (allocation) and reads, each write with an idempotency key."""

    def __init__(self, scenario, clients, mix=(0.5, 0.35), cut_fraction=0.0, customers=None):
        self.scenario = scenario
        self.clients = clients
        self.mix = mix
        self.cut_fraction = cut_fraction
        self.customers = customers or scenario.customers
        self.stop = threading.Event()
        self.give_up_at = None
        self.threads = []

    def start(self):
        for i in range(self.clients):
            thread = threading.Thread(target=self.worker, args=(i,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def finish(self, grace=60):
        self.give_up_at = time.monotonic() + grace
        self.stop.set()
        for thread in self.threads:
            thread.join(grace + 40)

    def connect(self):
        connection = Connection(self.scenario.port())
        reply = connection.call("auth.resume", {"token": self.scenario.token})
        if "result" not in reply:
            connection.close()
            raise Unanswered("resume: %s" % reply.get("error"))
        return connection

    def worker(self, index):
        rnd = random.Random(index * 7919 + int(time.time()))
        stats = self.scenario.stats
        connection = None
        n = 0
        while not self.stop.is_set():
            n += 1
            key = "%s-%d-%d" % (self.scenario.name, index, n)
            customer = rnd.choice(self.customers)
            roll = rnd.random()
            if roll < self.mix[0]:
                method = "invoices.create"
                amount = "%d.%02d" % (rnd.randrange(50, 900), rnd.randrange(100))
                params = {"customer_id": customer, "number": key, "issue_date": TODAY, "amount": amount, "idempotency_key": key}
            elif roll < self.mix[0] + self.mix[1]:
                method = "payments.record"
                amount = "%d.%02d" % (rnd.randrange(50, 1200), rnd.randrange(100))
                params = {"customer_id": customer, "amount": amount, "method": "bank_transfer", "received_on": TODAY,
                          "reference": key, "idempotency_key": key}
            else:
                method, amount = rnd.choice([("customers.get", None), ("invoices.list", None), ("credit.check", None)])
                params = {"id": customer} if method == "customers.get" else (
                    {"customer_id": customer, "limit": 20} if method == "invoices.list" else {"customer_id": customer, "amount": "1.00"})
            stats.add(operations=1)
            connection = self.perform(connection, rnd, method, params, key, amount)
        if connection:
            connection.close()

    def perform(self, connection, rnd, method, params, key, amount):
        stats = self.scenario.stats
        attempt = 0
        while True:
            if self.give_up_at is not None and time.monotonic() > self.give_up_at:
                stats.add(unanswered=1)
                return connection
            if attempt:
                stats.add(replays=1)
            attempt += 1
            sent_at = None
            try:
                if connection is None:
                    connection = self.connect()
                sent_at = time.monotonic()
                connection.send(method, params)
                if key and amount and attempt == 1 and rnd.random() < self.cut_fraction:
                    # Cut between request and reply: close at once or after a moment, with a FIN or an RST.
                    time.sleep(rnd.choice([0, 0, 0.001, 0.003, 0.01]))
                    connection.close(reset=rnd.random() < 0.5)
                    connection = None
                    stats.add(cuts=1)
                    continue
                reply = connection.receive()
            except (OSError, Unanswered, ValueError):
                if connection is not None:
                    connection.close()
                    connection = None
                    if sent_at is not None:
                        with stats.lock:
                            stats.dropped_in_flight.append(sent_at)
                time.sleep(0.05)
                continue
            now = time.monotonic()
            with stats.lock:
                stats.answer_waits.append((sent_at, now - sent_at))
            error = reply.get("error")
            if error is None:
                with stats.lock:
                    stats.acknowledged += 1
                    stats.latencies.append(now - sent_at)
                    stats.ack_times.append(now)
                    if amount:
                        stats.writes[key] = (method, reply["result"].get("id") or reply["result"].get("payment", {}).get("id"), amount)
                return connection
            code = error.get("code")
            if code == 503 or code == 429:
                time.sleep(0.1)
                continue
            if code == 422:
                with stats.lock:
                    stats.acknowledged += 1
                    stats.refused += 1
                    stats.latencies.append(now - sent_at)
                return connection
            with stats.lock:
                stats.errors.append("%s %s: %s" % (method, key, json.dumps(error)[:300]))
            return connection


# ---------------------------------------------------------------------------------------------------------------------
# Scenarios

class Scenario:
    def __init__(self, suite, name, daemons=1, daemon_env=None):
        self.suite, self.name = suite, name
        self.database = "chaos_" + name.replace("-", "_")
        suite.cluster.psql("postgres", "CREATE DATABASE %s TEMPLATE chaos_template" % self.database)
        self.daemons = [Daemon(suite, self.database, "d%d" % i, daemon_env) for i in range(daemons)]
        for d in self.daemons:
            d.start()
        self.stats = Stats()
        self.failures = []
        self.notes = []
        self.fault_ends = []
        self.recovery_bound = None
        self.rss_bound = suite.rss_bound
        self.p99 = None
        self.sampling = True
        threading.Thread(target=self.sample_rss, daemon=True).start()
        self.token = self.login()
        self.customers = self.make_customers(8, "3000.00")

    def port(self, i=None):
        daemon = self.daemons[i if i is not None else random.randrange(len(self.daemons))]
        return daemon.port

    def sample_rss(self):
        while self.sampling:
            for d in self.daemons:
                d.sample()
            time.sleep(0.1)

    def login(self, daemon=0):
        end = time.monotonic() + 30
        while True:
            try:
                connection = Connection(self.daemons[daemon].port)
                reply = connection.call("auth.login", {"username": "admin", "password": PASSWORD})
                connection.close()
                if "result" in reply:
                    return reply["result"]["token"]
            except (OSError, Unanswered):
                pass
            if time.monotonic() > end:
                raise RuntimeError("login failed")
            time.sleep(0.2)

    def admin(self):
        connection = Connection(self.port(0))
        assert "result" in connection.call("auth.resume", {"token": self.token})
        return connection

    def make_customers(self, count, limit, prefix="c"):
        connection = self.admin()
        ids = []
        for i in range(count):
            reply = connection.call("customers.create", {"name": "Chaos %s %s%d" % (self.name, prefix, i), "code": "%s-%s%d" % (self.name, prefix, i)})
            assert "result" in reply, reply
            cid = reply["result"]["id"]
            reply = connection.call("credit.terms.set", {"customer_id": cid, "credit_limit": limit, "net_days": 30,
                                                         "late_interest_rate": "0", "reason": "chaos"})
            assert "result" in reply, reply
            ids.append(cid)
        connection.close()
        return ids

    def sql(self, query):
        return self.suite.cluster.psql(self.database, query)

    # The invariants ----------------------------------------------------------------------------------------------

    def check_writes(self):
        """lost and doubled, from the acknowledged writes and the rows."""
        writes = self.stats.writes
        invoices = {row[0]: (int(row[1]), row[2], int(row[3])) for row in self.sql(
            "SELECT number, min(id), min(amount)::text, count(*) FROM invoices WHERE number LIKE '%s-%%' GROUP BY number" % self.name)}
        payments = {row[0]: (int(row[1]), row[2], int(row[3])) for row in self.sql(
            "SELECT reference, min(id), min(amount)::text, count(*) FROM payments WHERE reference LIKE '%s-%%' GROUP BY reference" % self.name)}
        lost = doubled = 0
        for key, (method, wid, amount) in writes.items():
            rows = invoices if method == "invoices.create" else payments
            found = rows.get(key)
            if found is None or found[0] != wid or found[1] != amount:
                lost += 1
                if lost <= 3:
                    self.failures.append("acknowledged %s %s (id %s, %s) is in the database as %s" % (method, key, wid, amount, found))
        doubled = sum(count - 1 for _, _, count in list(invoices.values()) + list(payments.values()))
        if doubled:
            self.failures.append("%d writes are in the database more than once" % doubled)
        return lost, doubled

    def check_ledger(self):
        bad = self.sql("""
            SELECT 'invoice ' || i.id || ': paid ' || i.paid_amount || ' but allocated ' || coalesce(a.s, 0)
            FROM invoices i LEFT JOIN (SELECT invoice_id, sum(amount) s FROM allocations WHERE reversed_at IS NULL GROUP BY invoice_id) a
                 ON a.invoice_id = i.id
            WHERE i.paid_amount <> coalesce(a.s, 0)
            UNION ALL
            SELECT 'payment ' || p.id || ': applied ' || (p.amount - p.unapplied) || ' but allocated ' || coalesce(a.s, 0)
            FROM payments p LEFT JOIN (SELECT payment_id, sum(amount) s FROM allocations WHERE reversed_at IS NULL GROUP BY payment_id) a
                 ON a.payment_id = p.id
            WHERE p.status = 'recorded' AND p.amount - p.unapplied <> coalesce(a.s, 0)
            UNION ALL
            SELECT 'customer ' || c.id || ': open ' || e.open || ' over the limit ' || e.lim
            FROM customers c JOIN (SELECT customer_id, sum(invoice_open_amount(i)) open, min(credit_limit) lim FROM invoices i
                                   WHERE status IN ('open', 'partially_paid') AND override_reason IS NULL GROUP BY customer_id) e
                 ON e.customer_id = c.id
            WHERE e.open > e.lim
            UNION ALL
            SELECT 'invoice ' || id || ' is ' || status || ' with ' || paid_amount || ' of ' || amount || ' paid' FROM invoices
            WHERE (status = 'paid') <> (paid_amount + discount_amount + written_off_amount = amount) AND status <> 'void'
            LIMIT 5""")
        for (line,) in bad:
            self.failures.append("ledger: " + line)

    def check_read_back(self):
        """The server reads back what it stored: its aging total equals the rows'."""
        total = self.sql("SELECT coalesce(sum(invoice_open_amount(i)), 0)::text FROM invoices i WHERE status IN ('open', 'partially_paid')")[0][0]
        connection = self.admin()
        reply = connection.call("reports.aging", {"limit": 1})
        connection.close()
        served = reply.get("result", {}).get("totals", {}).get("total")
        if served is None or Decimal(served) != Decimal(total):
            self.failures.append("reports.aging total %s, the rows say %s" % (served, total))

    def recovery(self):
        """Seconds from each fault's end to the first acknowledgement after it; the worst."""
        acks = sorted(self.stats.ack_times)
        worst = None
        for end in self.fault_ends:
            after = [t for t in acks if t >= end]
            seconds = (after[0] - end) if after else float("inf")
            worst = seconds if worst is None else max(worst, seconds)
        if worst is not None and self.recovery_bound is not None and worst > self.recovery_bound:
            self.failures.append("recovery took %.2f s (bound %.1f s)" % (worst, self.recovery_bound))
        return worst

    def finish(self, lost=None, doubled=None, bank=True):
        if bank:
            l, d = self.check_writes()
            self.check_ledger()
            self.check_read_back()
            lost = l if lost is None else lost + l
            doubled = d if doubled is None else doubled + d
        for error in self.stats.errors[:3]:
            self.failures.append("unexpected error: " + error)
        if len(self.stats.errors) > 3:
            self.failures.append("… and %d more unexpected errors" % (len(self.stats.errors) - 3))
        if self.stats.unanswered:
            self.failures.append("%d operations never answered" % self.stats.unanswered)
        recovered = self.recovery()
        for d in self.daemons:
            d.stop()
        self.sampling = False
        peak = max(d.peak_rss for d in self.daemons)
        if self.rss_bound and peak > self.rss_bound:
            self.failures.append("peak RSS %.0f MiB over the bound %.0f MiB" % (peak, self.rss_bound))
        lat = sorted(self.stats.latencies)
        p99 = self.p99 if self.p99 is not None else (lat[int(len(lat) * 0.99)] * 1000 if lat else None)
        if lost and not any(f.startswith("acknowledged") for f in self.failures):
            self.failures.append("%d acknowledged writes lost" % lost)
        self.suite.rows.append({
            "scenario": self.name, "operations": self.stats.operations, "acknowledged": self.stats.acknowledged,
            "refused": self.stats.refused, "replays": self.stats.replays, "lost": lost or 0, "doubled": doubled or 0,
            "recover": recovered, "rss": peak, "p99": p99, "notes": "; ".join(self.notes), "failures": self.failures})
        self.suite.cluster.psql("postgres", "DROP DATABASE %s WITH (FORCE)" % self.database)


def run_load(scenario, clients, seconds, fault=None, **kw):
    load = Workload(scenario, clients, **kw)
    load.start()
    if fault:
        fault(load)
    else:
        time.sleep(seconds)
    load.finish()
    return load


def scenario_self_check(suite):
    """The checks can fail: a short load, then one acknowledged invoice renamed away (lost), one acknowledged payment
    copied (doubled) and one invoice's paid amount nudged off its allocations (ledger). Passes only if all three are caught."""
    s = Scenario(suite, "self-check")
    run_load(s, 4, 3)
    invoices = [k for k, (m, _, _) in s.stats.writes.items() if m == "invoices.create"]
    payments = [k for k, (m, _, _) in s.stats.writes.items() if m == "payments.record"]
    s.sql("UPDATE invoices SET number = number || '-gone' WHERE number = '%s'" % invoices[0])
    s.sql("""INSERT INTO payments (customer_id, amount, currency, method, received_on, reference, unapplied, created_by)
             SELECT customer_id, amount, currency, method, received_on, reference, amount, created_by FROM payments
             WHERE reference = '%s'""" % payments[0])
    s.sql("UPDATE invoices SET paid_amount = paid_amount + 0.01 WHERE id = (SELECT min(id) FROM invoices WHERE paid_amount + 0.01 < amount)")
    lost, doubled = s.check_writes()
    s.check_ledger()
    ledger = any(f.startswith("ledger:") for f in s.failures)
    s.notes.append("tampered with 3 rows; caught: lost %d, doubled %d, ledger %s" % (lost, doubled, "yes" if ledger else "no"))
    s.failures = [] if lost == 1 and doubled == 1 and ledger else ["the checks missed a tampered row: " + "; ".join(s.failures)]
    s.finish(lost=0, doubled=0, bank=False)


def scenario_bank(suite):
    s = Scenario(suite, "bank-32")
    run_load(s, 32, suite.seconds(10, 60))
    s.notes.append("%d credit-limit or other refusals" % s.stats.refused)
    s.finish()


def signal_and_restart(s, sig, rounds, gap):
    """Under load: `sig` to the daemon, wait for it to exit, start it again on its port; `rounds` times, `gap` apart.
    Returns (sent at, exit code, seconds to exit) per round."""
    outcomes = []
    time.sleep(2)
    for _ in range(rounds):
        at = time.monotonic()
        s.daemons[0].signal(sig)
        code, seconds = s.daemons[0].wait(15)
        outcomes.append((at, code, seconds))
        s.daemons[0].start()
        s.fault_ends.append(time.monotonic())
        time.sleep(gap)
    return outcomes


def scenario_daemon_kill9(suite):
    s = Scenario(suite, "daemon-kill9")
    s.recovery_bound = 10
    kills = suite.count(2, 5)
    run_load(s, 16, 0, lambda load: signal_and_restart(s, signal.SIGKILL, kills, suite.seconds(3, 8)))
    s.notes.append("%d kill -9, %d replays by idempotency key" % (kills, s.stats.replays))
    s.finish()


def pg_scenario(suite, name, fault_action, notes, bound=10):
    """16 clients; after 2 s `fault_action(s)` (which returns once PostgreSQL is back); recovery within `bound`.
    `notes` is a string, or a function of the scenario that checks what it must and returns the string."""
    s = Scenario(suite, name)
    s.recovery_bound = bound

    def fault(load):
        time.sleep(2)
        fault_action(s)
        s.fault_ends.append(time.monotonic())
        time.sleep(suite.seconds(4, 10))
    run_load(s, 16, 0, fault)
    s.notes.append(notes(s) if callable(notes) else notes)
    s.finish()


def scenario_pg_restart_fast(suite):
    def act(s):
        suite.cluster.stop("fast")
        suite.cluster.restart_on_same_port()
    pg_scenario(suite, "pg-restart-fast", act, "pg_ctl restart -m fast")


def scenario_pg_restart_immediate(suite):
    def act(s):
        suite.cluster.stop("immediate")
        suite.cluster.restart_on_same_port()
    pg_scenario(suite, "pg-restart-immediate", act, "pg_ctl restart -m immediate (crash recovery)")


def scenario_pg_stop(suite):
    down = suite.seconds(5, 30)

    def act(s):
        suite.cluster.stop("fast")
        time.sleep(down)
        suite.cluster.restart_on_same_port()
    pg_scenario(suite, "pg-stop-%ds" % down, act, "PostgreSQL stopped for %d s; 503 retryable meanwhile" % down)


def scenario_pg_kill9(suite):
    def act(s):
        suite.cluster.kill9()
        suite.cluster.restart_on_same_port()
    pg_scenario(suite, "pg-kill9", act, "kill -9 of the postmaster and every backend, fsync on")


def scenario_pg_sigstop(suite):
    """The database stops answering (issue 18, part 1): every request is answered 503 within the bound."""
    frozen = suite.seconds(8, 20)
    bound = CALL_TIMEOUT + 1 + 2.5
    probes = []

    def act(s):
        pids = suite.cluster.pids()
        start = time.monotonic()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(1)
            # A login on a new connection during the freeze.
            t = time.monotonic()
            try:
                reply = Connection(s.port()).call("auth.login", {"username": "admin", "password": PASSWORD})
            except (OSError, Unanswered) as e:
                reply = {"exception": str(e)}
            probes.append((reply, time.monotonic() - t))
            time.sleep(max(0, frozen - (time.monotonic() - start)))
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        s.freeze = (start, time.monotonic())

    def check(s):
        start, end = s.freeze
        waits = [w for sent, w in s.stats.answer_waits if start <= sent <= end]
        hung = [sent for sent in s.stats.dropped_in_flight if start - bound <= sent <= end]
        worst = max(waits) if waits else 0
        if worst > bound:
            s.failures.append("a request during the freeze waited %.2f s for its answer (bound %.1f s)" % (worst, bound))
        if hung:
            s.failures.append("%d requests during the freeze lost their connection instead of an answer" % len(hung))
        for reply, seconds in probes:
            error = reply.get("error", {})
            if error.get("code") != 503 or error.get("data", {}).get("retryable") is not True or seconds > bound:
                s.failures.append("auth.login during the freeze: %s after %.2f s" % (reply, seconds))
        return ("SIGSTOP %d s; %d answers during it, slowest %.2f s; a new login got %s in %.2f s" % (
            frozen, len(waits), worst, probes[0][0].get("error", {}).get("code") if probes else "?", probes[0][1] if probes else 0))
    pg_scenario(suite, "pg-sigstop", act, check, bound=3)


def scenario_cut(suite):
    s = Scenario(suite, "cut-connections")
    run_load(s, 16, suite.seconds(10, 45), cut_fraction=0.3)
    s.notes.append("%d connections cut between request and reply, each write replayed" % s.stats.cuts)
    s.finish()


def scenario_sigterm(suite):
    s = Scenario(suite, "sigterm")
    s.recovery_bound = 10
    rounds = suite.count(1, 3)
    terms = []
    run_load(s, 16, 0, lambda load: terms.extend(signal_and_restart(s, signal.SIGTERM, rounds, suite.seconds(3, 8))))
    for at, code, seconds in terms:
        if code != 0 or seconds > 5:
            s.failures.append("SIGTERM: exit %s after %.2f s (want 0 within 5 s)" % (code, seconds))
        dropped = [t for t in s.stats.dropped_in_flight if at - 5 < t < at - 0.2]
        if dropped:
            s.failures.append("SIGTERM: %d requests in flight got no answer" % len(dropped))
    s.notes.append("SIGTERM under load %d×: exit %s in %s s" % (
        rounds, ",".join(str(c) for _, c, _ in terms), ",".join("%.2f" % x for _, _, x in terms)))
    s.finish()


def scenario_non_reading(suite):
    """Clients that send and never read (issue 18, part 2): dropped at the write timeout, memory bounded and given back."""
    write_timeout = suite.seconds(5, 30)
    clients = 50
    hold = write_timeout + suite.seconds(10, 15)
    pending = 4 << 20
    s = Scenario(suite, "non-reading", daemon_env={"ASHRAI_SERVER_WRITE_TIMEOUT_SECONDS": str(write_timeout)})
    rounds = suite.count(1, 3)
    results = []

    def fault(load):
        time.sleep(3)
        baseline = s.daemons[0].rss_mib()
        for r in range(rounds):
            socks = []
            for _ in range(clients):
                c = Connection(s.port())
                c.call("auth.resume", {"token": s.token})
                c.sock.setblocking(False)
                socks.append([c, time.monotonic(), None])
            line = (json.dumps({"jsonrpc": "2.0", "id": 9, "method": "rpc.discover"}) + "\n").encode()
            t0 = time.monotonic()
            peak = 0
            while time.monotonic() - t0 < hold:
                for entry in socks:
                    if entry[2] is not None:
                        continue
                    try:
                        entry[0].sock.send(line)
                    except BlockingIOError:
                        pass
                    except OSError:
                        entry[2] = time.monotonic()
                peak = max(peak, s.daemons[0].rss_mib())
                time.sleep(0.05)
            open_left = sum(1 for e in socks if e[2] is None)
            slowest = max((e[2] - e[1] for e in socks if e[2] is not None), default=0)
            for entry in socks:
                entry[0].close()
            time.sleep(suite.seconds(8, 30))
            results.append((baseline, peak, open_left, slowest, s.daemons[0].rss_mib()))
    load = run_load(s, 8, 0, fault)
    bound_peak = None
    for i, (baseline, peak, open_left, slowest, after) in enumerate(results):
        bound_peak = baseline + clients * (pending + (1 << 20)) / (1 << 20) + 64
        if open_left:
            s.failures.append("round %d: %d of %d non-reading connections still open after %d s (write timeout %d s)" % (
                i + 1, open_left, clients, hold, write_timeout))
        if after > baseline + 40:
            s.failures.append("round %d: RSS %.0f MiB after the clients went, baseline %.0f MiB" % (i + 1, after, baseline))
        s.notes.append("round %d: %d non-readers dropped, slowest after %.0f s; RSS %.0f → peak %.0f → %.0f MiB" % (
            i + 1, clients - open_left, slowest, baseline, peak, after))
    s.rss_bound = bound_peak
    lat = sorted(w for _, w in s.stats.answer_waits)
    s.p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else None
    if s.p99 is not None and s.p99 > 2000:
        s.failures.append("a well-behaved client's p99 was %.0f ms beside the non-readers (bound 2000 ms)" % s.p99)
    s.finish()


def scenario_slowloris(suite):
    """Connections that trickle a line that never ends, and ones that send nothing: closed at the login deadline."""
    deadline = suite.seconds(3, 10)
    s = Scenario(suite, "slowloris", daemon_env={"ASHRAI_SERVER_LOGIN_DEADLINE_SECONDS": str(deadline)})
    count = 120
    outcome = {}

    def fault(load):
        time.sleep(2)
        socks = []
        for i in range(count):
            try:
                sock = socket.create_connection(("127.0.0.1", s.port()), timeout=5)
                sock.setblocking(False)
                socks.append([sock, time.monotonic(), None, i % 2 == 0])
            except OSError:
                pass
        end = time.monotonic() + deadline + suite.seconds(8, 20)
        while time.monotonic() < end and any(e[2] is None for e in socks):
            for entry in socks:
                if entry[2] is not None:
                    continue
                try:
                    if entry[3]:
                        entry[0].send(b"{")            # one byte a tick, never a newline
                    data = entry[0].recv(4096)
                    if data == b"":
                        entry[2] = time.monotonic()
                except BlockingIOError:
                    pass
                except OSError:
                    entry[2] = time.monotonic()
            time.sleep(0.25)
        outcome["open"] = sum(1 for e in socks if e[2] is None)
        outcome["slowest"] = max((e[2] - e[1] for e in socks if e[2] is not None), default=0)
        outcome["count"] = len(socks)
        for entry in socks:
            entry[0].close()
        time.sleep(2)
    run_load(s, 8, 0, fault)
    if outcome["open"]:
        s.failures.append("%d slow connections still open %d s past the login deadline" % (outcome["open"], suite.seconds(8, 20)))
    if outcome["slowest"] > deadline + 3:
        s.failures.append("a slow connection lived %.1f s (login deadline %d s)" % (outcome["slowest"], deadline))
    lat = sorted(w for _, w in s.stats.answer_waits)
    s.p99 = lat[int(len(lat) * 0.99)] * 1000 if lat else None
    if s.p99 is not None and s.p99 > 2000:
        s.failures.append("a well-behaved client's p99 was %.0f ms beside slowloris (bound 2000 ms)" % s.p99)
    s.notes.append("%d slow connections (half trickling a byte every 0.25 s), all closed within %.1f s (login deadline %d s)" % (
        outcome["count"], outcome["slowest"], deadline))
    s.finish()


def scenario_dunning(suite):
    """Two daemons running dunning at once, for every level, with a kill -9 of one mid-run: each letter once."""
    s = Scenario(suite, "two-daemons-dunning", daemons=2)
    customers = s.make_customers(suite.count(20, 60), "100000.00", prefix="d")
    connection = s.admin()
    issue = time.strftime("%Y-%m-%d", time.localtime(time.time() - 70 * 86400))
    due = issue
    for i, cid in enumerate(customers):
        for k in range(2):
            reply = connection.call("invoices.create", {"customer_id": cid, "number": "%s-%d-%d" % (s.name, i, k),
                                                        "issue_date": issue, "due_date": due, "amount": "%d.00" % (100 + i)})
            assert "result" in reply, reply
    connection.close()
    base = time.mktime(time.strptime(due, "%Y-%m-%d"))
    days = [1, 3, 15, 30, 45, 60, 61]
    stats = s.stats
    runs = []

    def run(port, as_of):
        stats.add(operations=1)
        end = time.monotonic() + 60
        while time.monotonic() < end:
            try:
                c = Connection(port())
                c.call("auth.resume", {"token": s.token})
                reply = c.call("dunning.run", {"as_of": as_of})
                c.close()
            except (OSError, Unanswered):
                time.sleep(0.1)
                continue
            if "result" in reply:
                with stats.lock:
                    stats.acknowledged += 1
                    stats.ack_times.append(time.monotonic())
                runs.append(reply["result"])
                return
            if reply.get("error", {}).get("code") in (503, 429):
                time.sleep(0.1)
                continue
            with stats.lock:
                stats.errors.append("dunning.run %s: %s" % (as_of, reply.get("error")))
            return
        stats.add(unanswered=1)

    for step, day in enumerate(days):
        as_of = time.strftime("%Y-%m-%d", time.localtime(base + day * 86400 + 43200))
        threads = [threading.Thread(target=run, args=((lambda i=i: s.daemons[i % 2].port), as_of)) for i in range(6)]
        for t in threads:
            t.start()
        if step == 3:   # one daemon dies in the middle of the runs for the 30-day level
            time.sleep(0.05)
            s.daemons[0].signal(signal.SIGKILL)
            s.daemons[0].wait(10)
            s.daemons[0].start()
            s.fault_ends.append(time.monotonic())
        for t in threads:
            t.join()
        # Someone sends what was written (a sanction waits until its notice reached the customer).
        c = s.admin()
        for letter in c.call("letters.list", {"status": "pending", "limit": 500})["result"]["letters"]:
            assert "result" in c.call("letters.mark_sent", {"id": letter["id"], "channel": "post"})
        c.close()
    doubled = int(s.sql("SELECT count(*) - count(DISTINCT (customer_id, level)) FROM letters")[0][0])
    doubled += int(s.sql("SELECT count(*) - count(DISTINCT customer_id) FROM tasks WHERE kind = 'call'")[0][0])
    doubled += int(s.sql("SELECT count(*) - count(DISTINCT customer_id) FROM holds")[0][0])
    missing = int(s.sql("""SELECT count(*) FROM invoices i CROSS JOIN generate_series(1, 6) l
                           WHERE NOT EXISTS (SELECT 1 FROM dunning_steps d WHERE d.invoice_id = i.id AND d.level = l)""")[0][0])
    letters = int(s.sql("SELECT count(*) FROM letters")[0][0])
    if doubled:
        s.failures.append("%d letters, call tasks or holds made twice" % doubled)
    if missing:
        s.failures.append("acknowledged runs left %d (invoice, level) steps untaken" % missing)
    s.notes.append("%d customers × 6 levels, 6 concurrent runs per day over 2 daemons, one kill -9 mid-run; %d letters" % (
        len(customers), letters))
    s.finish(lost=missing, doubled=doubled, bank=False)


SCENARIOS = [
    ("self-check", scenario_self_check),
    ("bank-32", scenario_bank),
    ("daemon-kill9", scenario_daemon_kill9),
    ("pg-restart-fast", scenario_pg_restart_fast),
    ("pg-restart-immediate", scenario_pg_restart_immediate),
    ("pg-stop", scenario_pg_stop),
    ("pg-kill9", scenario_pg_kill9),
    ("pg-sigstop", scenario_pg_sigstop),
    ("cut-connections", scenario_cut),
    ("non-reading", scenario_non_reading),
    ("slowloris", scenario_slowloris),
    ("sigterm", scenario_sigterm),
    ("two-daemons-dunning", scenario_dunning),
]


# ---------------------------------------------------------------------------------------------------------------------

class Suite:
    def __init__(self, args):
        self.bin = os.path.abspath(args.bin)
        self.short = args.short
        self.rss_bound = args.rss_bound
        self.dir = tempfile.mkdtemp(prefix="ashrai-chaos.")
        os.chmod(self.dir, 0o755)
        self.cluster = Cluster(os.path.join(self.dir, "pg"))
        self.rows = []
        self.daemons = []

    def seconds(self, short, long):
        return short if self.short else long

    def count(self, short, long):
        return short if self.short else long

    def daemon_env(self, database):
        env = {k: v for k, v in os.environ.items() if not k.startswith("ASHRAI_")}
        env.update({
            "ASHRAI_DATABASE_URL": "postgresql://ashrai_app@127.0.0.1:%d/%s" % (self.cluster.port, database),
            "ASHRAI_MIGRATION_DATABASE_URL": "postgresql://postgres@127.0.0.1:%d/%s" % (self.cluster.port, database),
            "ASHRAI_DATABASE_CALL_TIMEOUT_SECONDS": str(CALL_TIMEOUT),
            "ASHRAI_DUNNING_SCHEDULE": "off",
            "ASHRAI_LOG_LEVEL": "warning",
        })
        return env

    def setup(self):
        self.cluster.start()
        self.cluster.psql("postgres", "CREATE DATABASE chaos_template")
        env = self.daemon_env("chaos_template")
        subprocess.run([os.path.join(self.bin, "ashraid"), "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([os.path.join(self.bin, "ashraid"), "create-admin", "--username", "admin", "--password-stdin"],
                       env=env, check=True, input=PASSWORD.encode(), capture_output=True)

    def cleanup(self, keep):
        for daemon in self.daemons:
            daemon.stop()
        self.cluster.signal_all(signal.SIGCONT)
        subprocess.run([os.path.join(ROOT, "Scripts/pg"), "stop", self.cluster.dir], capture_output=True)
        if not keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def table(self):
        def fmt(v, spec):
            return "—" if v is None else (spec % v)
        print("| scenario | operations | acknowledged | lost | doubled | time to recover s | peak RSS MiB | p99 ms | result |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
        for r in self.rows:
            print("| %s | %d | %d | %d | %d | %s | %.0f | %s | %s |" % (
                r["scenario"], r["operations"], r["acknowledged"], r["lost"], r["doubled"], fmt(r["recover"], "%.2f"),
                r["rss"], fmt(r["p99"], "%.0f"), "ok" if not r["failures"] else "**FAILED**"))
        print()
        for r in self.rows:
            print("- %s: %s" % (r["scenario"], r["notes"] or ""))
            for f in r["failures"]:
                print("    FAILED: " + f)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True, help="directory holding ashraid")
    parser.add_argument("--short", action="store_true", help="the CI version: shorter faults and fewer rounds")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--keep", action="store_true", help="keep the cluster and daemon logs")
    parser.add_argument("--rss-bound", type=float, default=400, help="peak RSS bound in MiB for scenarios without their own")
    args = parser.parse_args()
    suite = Suite(args)
    wanted = [n for n in args.only.split(",") if n]
    started = time.monotonic()
    try:
        suite.setup()
        for name, function in SCENARIOS:
            if wanted and name not in wanted:
                continue
            log("chaos: %s …" % name)
            t = time.monotonic()
            try:
                function(suite)
            except Exception as e:   # a scenario that could not run is a failure, and the rest still run
                import traceback
                traceback.print_exc()
                suite.rows.append({"scenario": name, "operations": 0, "acknowledged": 0, "lost": 0, "doubled": 0, "recover": None,
                                   "rss": 0, "p99": None, "notes": "", "failures": ["could not run: %r" % e]})
            log("chaos: %s done in %.0f s" % (name, time.monotonic() - t))
    finally:
        suite.cleanup(args.keep)
    suite.table()
    print("\n%d scenarios in %.0f s (%s)" % (len(suite.rows), time.monotonic() - started, "short" if args.short else "long"))
    failed = [r["scenario"] for r in suite.rows if r["failures"]]
    if failed:
        print("chaos FAILED: " + ", ".join(failed))
        sys.exit(1)
    print("chaos: ok")


if __name__ == "__main__":
    main()
