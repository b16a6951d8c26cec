import AshraiClient
import AshraiProtocol
import Foundation
import Histogram
import Synchronization

/// `--events N`: what live events cost and how late they come. Writers create invoices for the run's seconds, first
/// with nobody watching, then with N watchers subscribed to `invoice.created` (each on its own connection, on
/// `--watch-server` when given: another daemon). Printed: invoices/s and their p50, how long after a writer had its
/// reply each watcher had the event (p50, p99), whether every watcher got every event once, and the daemons' CPU per
/// invoice.
struct EventsBench {
    let endpoint: ServerEndpoint
    let watchEndpoint: ServerEndpoint
    let token: String
    let customers: [JSONValue]
    let duration: Duration
    let writers: Int
    let watchers: Int
    let daemonPids: [Int32]

    struct Phase {
        var watchers: Int
        var invoices: Int
        var elapsed: Duration
        var calls: Histogram<UInt64>
        var delays: Histogram<UInt64>
        var delivered: Int
        var duplicates: Int
        var daemonMicrosPerInvoice: Double?
    }

    func run() async throws {
        var phases: [Phase] = []
        for count in [0, watchers] { phases.append(try await phase(watchers: count)) }
        func ms(_ micros: UInt64) -> String { String(format: "%.2f", Double(micros) / 1000) }
        print("writers: \(writers); watchers on \(watchEndpoint.host):\(watchEndpoint.port)\n")
        print("| watchers | invoices.create/s | create p50 ms | event after the reply: p50 ms | p99 ms | delivered | duplicates | daemons' CPU µs/invoice |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for p in phases {
            let seconds = Double(p.elapsed.components.seconds) + Double(p.elapsed.components.attoseconds) / 1e18
            let expected = p.invoices * p.watchers
            print("| \(p.watchers) | \(String(format: "%.0f", Double(p.invoices) / seconds)) | \(ms(p.calls.valueAtPercentile(50))) | "
                  + (p.watchers == 0 ? "— | — | — | — | " : "\(ms(p.delays.valueAtPercentile(50))) | \(ms(p.delays.valueAtPercentile(99))) | \(p.delivered)/\(expected) | \(p.duplicates) | ")
                  + "\(p.daemonMicrosPerInvoice.map { String(format: "%.0f", $0) } ?? "—") |")
        }
    }

    /// One run of the writers with `watchers` watching.
    func phase(watchers: Int) async throws -> Phase {
        let replies = Replies()
        let (ready, readySignal) = AsyncStream<Void>.makeStream()
        let run = UInt32.random(in: 0...UInt32.max)
        let endpoint = self.endpoint, watchEndpoint = self.watchEndpoint, token = self.token, customers = self.customers
        // The watchers: each keeps when it had which invoice, until the last one (written after every writer stopped,
        // so the last event) comes.
        let watching = Task {
            try await withThrowingTaskGroup(of: [(String, ContinuousClock.Instant)].self) { group in
                for _ in 0..<watchers {
                    group.addTask {
                        try await Bench.loggedIn(watchEndpoint, token) { connection in
                            _ = try await connection.call("events.subscribe", ["topics": ["invoice.created"]])
                            readySignal.yield()
                            var seen: [(String, ContinuousClock.Instant)] = []
                            while let (_, event) = try await connection.notification() {
                                if event["data"]?["number"]?.stringValue == "E\(run)-\(watchers)-last" { break }
                                seen.append((event["data"]?["invoice_id"]?.encoded() ?? "", .now))
                            }
                            return seen
                        }
                    }
                }
                var all: [[(String, ContinuousClock.Instant)]] = []
                for try await seen in group { all.append(seen) }
                return all
            }
        }
        var subscribed = 0
        if watchers > 0 {
            for await _ in ready {
                subscribed += 1
                if subscribed == watchers { break }
            }
        }
        let cpuBefore = daemonPids.compactMap(Bench.cpuMicros).reduce(0, +)
        let start = ContinuousClock.now
        let deadline = start + duration
        let calls = try await withThrowingTaskGroup(of: Histogram<UInt64>.self) { group in
            for worker in 0..<writers {
                group.addTask {
                    try await Bench.loggedIn(endpoint, token) { connection in
                        var n = 0
                        return try await Bench.loop(until: deadline) {
                            n += 1
                            let id = try await connection.call("invoices.create", [
                                "customer_id": customers.randomElement()!, "number": .string("E\(run)-\(watchers)-\(worker)-\(n)"),
                                "issue_date": .string(Bench.today), "amount": "10.00",
                            ])["id"]?.encoded() ?? ""
                            let now = ContinuousClock.now
                            replies.times.withLock { $0[id] = now }
                        }
                    }
                }
            }
            var merged = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            for try await histogram in group { merged.add(histogram) }
            return merged
        }
        let elapsed = ContinuousClock.now - start
        let cpuAfter = daemonPids.compactMap(Bench.cpuMicros).reduce(0, +)
        _ = try await Bench.loggedIn(endpoint, token) { connection in
            try await connection.call("invoices.create", ["customer_id": customers[0], "number": .string("E\(run)-\(watchers)-last"),
                                                          "issue_date": .string(Bench.today), "amount": "10.00"])
        }
        // A watcher that never sees the last one (an event lost) is given 30 s, then the run reports what came.
        let timeout = Task { try await Task.sleep(for: .seconds(30)); watching.cancel() }
        let seen = (try? await watching.value) ?? []
        timeout.cancel()
        let written = replies.times.withLock { $0 }
        var delays = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var delivered = 0, duplicates = 0
        for watcher in seen {
            var once = Set<String>()
            for (id, at) in watcher {
                guard let replied = written[id] else { continue }
                if !once.insert(id).inserted { duplicates += 1; continue }
                delivered += 1
                let delay = at > replied ? at - replied : .zero
                _ = delays.record(UInt64(delay.components.seconds * 1_000_000 + delay.components.attoseconds / 1_000_000_000_000))
            }
        }
        return Phase(watchers: watchers, invoices: written.count, elapsed: elapsed, calls: calls, delays: delays, delivered: delivered,
                     duplicates: duplicates,
                     daemonMicrosPerInvoice: daemonPids.isEmpty || written.isEmpty ? nil : (cpuAfter - cpuBefore) / Double(written.count))
    }
}

/// When each writer had its reply, by invoice id.
final class Replies: Sendable {
    let times = Mutex<[String: ContinuousClock.Instant]>([:])
}
