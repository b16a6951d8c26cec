import AshraiCore
import AshraiProtocol
import Foundation
import Logging
import Postgres

/// A bank line as stored.
struct BankTransactionRecord: Decodable, Sendable {
    var id: Int64
    var statementID: Int64
    var account: String
    var bookingDate: PostgresDate
    var valueDate: PostgresDate?
    var amount: Decimal
    var currency: String
    var counterpartyName: String?
    var counterpartyAccount: String?
    var remittance: String?
    var bankReference: String?
    var location: String
    var status: BankTransactionStatus
    var paymentID: Int64?
    var createdAt: Date
    var ignoreReason: String?

    enum CodingKeys: String, CodingKey {
        case ignoreReason = "ignore_reason"
        case id, statementID = "statement_id", account, bookingDate = "booking_date", valueDate = "value_date", amount, currency
        case counterpartyName = "counterparty_name", counterpartyAccount = "counterparty_account", remittance
        case bankReference = "bank_reference", location, status, paymentID = "payment_id", createdAt = "created_at"
    }

    static let columns = """
        t.id, t.statement_id, t.account, t.booking_date, t.value_date, t.amount, t.currency, t.counterparty_name, t.counterparty_account,
        t.remittance, t.bank_reference, t.location, t.status, t.payment_id, t.created_at, t.ignore_reason
        """

    /// One line (404 when there is none), optionally locked.
    static func load(_ id: Int64, forUpdate: Bool = false, on connection: PostgresConnection) async throws -> BankTransactionRecord {
        guard let row = try await connection.query(
            "SELECT \(unescaped: columns) FROM bank_transactions t WHERE t.id = \(id) \(unescaped: forUpdate ? "FOR UPDATE" : "")").first
        else { throw RPCFailure.notFound("bank transaction") }
        return try BankTransactionRecord(row: row)
    }

    var json: JSONValue {
        ["id": .id(id), "statement_id": .id(statementID), "account": .string(account), "booking_date": .date(bookingDate),
         "value_date": .date(valueDate), "amount": .money(amount), "currency": .string(currency),
         "counterparty_name": .optional(counterpartyName), "counterparty_account": .optional(counterpartyAccount),
         "remittance": .optional(remittance), "bank_reference": .optional(bankReference), "location": .string(location),
         "status": .string(status.rawValue), "payment_id": paymentID.map(JSONValue.id) ?? .null, "created_at": .string(rfc3339(createdAt)),
         "ignore_reason": .optional(ignoreReason)]
    }
}

extension BankTransactionRecord {
    /// A row of `columns`, by position (an import decodes 100,000; by name it was a tenth of the import's time).
    init(row: PostgresRow) throws {
        func status(_ text: String) throws -> BankTransactionStatus {
            guard let status = BankTransactionStatus(rawValue: text) else { throw PostgresDecodingFailure("status: unknown value \(text)") }
            return status
        }
        self.init(id: try row.decode(at: 0), statementID: try row.decode(at: 1), account: try row.decode(at: 2), bookingDate: try row.decode(at: 3),
                  valueDate: try row.decode(at: 4), amount: try row.decode(at: 5), currency: try row.decode(at: 6),
                  counterpartyName: try row.decode(at: 7), counterpartyAccount: try row.decode(at: 8), remittance: try row.decode(at: 9),
                  bankReference: try row.decode(at: 10), location: try row.decode(at: 11), status: try status(try row.decode(at: 12)),
                  paymentID: try row.decode(at: 13), createdAt: try row.decode(at: 14), ignoreReason: try row.decode(at: 15))
    }
}

/// `bank.*`: statements in, lines kept once.
enum BankMethods {
    static let handlers: [String: MethodHandler] = [
        "bank.statements.import": importStatement, "bank.transactions.list": list, "bank.profiles.list": profiles,
        "bank.unmatched": unmatched, "bank.match": match, "bank.ignore": ignore, "bank.reverse": reverse,
    ]

    /// A debit that brings a payment back: the payment is reversed (through `payments.reverse`'s
    /// code, so its invoices are open again and the payment history shows it), the line is
    /// `returned`, its cheque (if it was one) bounced, the customer's log says so, and the bank's
    /// fee is charged by policy (`PaymentReturns`).
    static func reverse(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("transaction_id"))
        let paymentID = Int64(try params.id("payment_id"))
        let note = try params.optionalString("reason", maxLength: 500)
        let fee = try params.optionalMoney("fee", currency: services.settings.currency)
        let current = context
        return try await services.transaction(current) { tx in
            let line = try await BankTransactionRecord.load(id, forUpdate: true, on: tx)
            guard line.status == .unmatched else { throw RPCFailure.conflict("the bank line is already \(line.status.rawValue)") }
            guard line.amount < 0 else { throw RPCFailure.conflict("only money out returns a payment") }
            let payment = try await PaymentStore.load(paymentID, on: tx)
            guard payment.amount == -line.amount else {
                throw RPCFailure.invalidParams("payment_id", "the payment's amount is not the amount the bank took back")
            }
            let reason = "bank line \(line.id)\(line.remittance.map { ": \($0)" } ?? "")\(note.map { " — \($0)" } ?? "")"
            _ = try await CustomerRecord.require(payment.customerID, forUpdate: true, on: tx)
            let chequeID = try await tx.query("SELECT id FROM cheques WHERE payment_id = \(paymentID) FOR UPDATE").first?.decode(Int64.self, at: 0)
            let outcome = try await PaymentReturns.record(customerID: payment.customerID, paymentID: paymentID, chequeID: chequeID,
                                                          reason: reason, fee: fee, services: services, context: current, on: tx)
            try await tx.query("UPDATE bank_transactions SET status = 'returned', payment_id = \(paymentID) WHERE id = \(id)")
            try await Audit.record(tx, context: current, method: "bank.reverse", entity: "bank_transaction", entityID: String(id),
                                   details: ["payment_id": .id(paymentID), "customer_id": .id(payment.customerID),
                                             "cheque_id": chequeID.map(JSONValue.id) ?? .null,
                                             "fee_invoice_id": outcome.feeInvoiceID.map(JSONValue.id) ?? .null])
            return try await BankTransactionRecord.load(id, on: tx).json
        }
    }

    /// Posts, inside the import's transaction, every new credit whose best candidate is at least
    /// `bank.autoPostConfidence` sure; the others wait on the worklist (`bank.unmatched`). The customers paid.
    ///
    /// Posts are written in batches (`BankPosting.post`, a few statements each). A batch is written
    /// before a line whose best candidate is a customer the batch already pays: that line is matched
    /// again against the customer's invoices as they are after the batch. A line of another customer
    /// is matched against a book that does not yet show the batch's payments, which can only make it
    /// less sure (a paid invoice is one more candidate, never one fewer), never post it wrongly.
    static func autoPost(_ lines: [BankTransactionRecord], services: Services, context: CallContext, on tx: PostgresConnection) async throws -> [Int64] {
        let threshold = services.settings.bankAutoPostConfidence
        let credits = lines.filter { $0.amount > 0 && $0.currency == services.settings.currency.code }
        guard threshold <= 99, !credits.isEmpty else { return [] }
        let clock = ContinuousClock()
        let started = clock.now
        var book = try await BankPosting.book(currency: services.settings.currency, on: tx)
        let booked = clock.now
        var matching = Duration.zero
        var posted: [Int64] = []
        defer {
            context.logger.info("bank lines matched and posted", metadata: [
                "credits": "\(credits.count)", "posted": "\(posted.count)", "book_ms": "\((booked - started).milliseconds)",
                "match_ms": "\(matching.milliseconds)", "post_ms": "\((clock.now - booked - matching).milliseconds)",
            ])
        }
        var batch: [BankPosting.Post] = []
        var batchCustomers = Set<Int64>()
        func flush() async throws {
            guard !batch.isEmpty else { return }
            for (post, outcome) in zip(batch, try await BankPosting.post(batch, automatic: true, services: services, context: context, on: tx)) {
                switch outcome {
                case .success: posted.append(post.customerID)
                case .failure(let failure):
                    context.logger.info("bank line left for the worklist", metadata: ["transaction_id": "\(post.line.id)", "reason": "\(failure.message)"])
                }
            }
            try await book.refresh(customerIDs: batchCustomers, on: tx)
            batch.removeAll(keepingCapacity: true)
            batchCustomers.removeAll(keepingCapacity: true)
        }
        for line in credits {
            var best: BankMatching.Candidate?
            for attempt in 0..<2 {
                let before = clock.now
                best = book.candidates(for: line).first
                matching += clock.now - before
                guard attempt == 0, let customerID = best?.customerID, batchCustomers.contains(customerID) else { break }
                try await flush()
            }
            guard let best, best.confidence >= threshold else { continue }
            let open = book.index.openInvoices(of: best.customerID).filter { best.invoiceIDs.contains($0.id) }
            batch.append(BankPosting.Post(line: line, customerID: best.customerID,
                                          allocations: best.invoiceIDs.isEmpty ? nil : open.map { AllocationLine(invoiceID: $0.id, amount: $0.open) },
                                          reasons: ["confidence \(best.confidence)"] + best.reasons))
            batchCustomers.insert(best.customerID)
            if batch.count >= postBatchSize { try await flush() }
        }
        try await flush()
        return posted
    }

    /// How many credits `autoPost` writes at once: the arrays of one statement stay a few hundred KiB.
    static let postBatchSize = 1000

    static func unmatched(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let limit = try params.optionalInt("limit", range: 1...100) ?? 50
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        let currency = services.settings.currency
        return try await services.read(context) { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: BankTransactionRecord.columns) FROM bank_transactions t
                WHERE t.status = 'unmatched' AND t.id > \(after) ORDER BY t.id LIMIT \(limit)
                """)
            let lines = rows.decodeEach("bank transaction", logger: context.logger) { try BankTransactionRecord(row: $0) }
            let book = lines.contains { $0.amount > 0 } ? try await BankPosting.book(currency: currency, on: connection) : nil
            let payments = lines.contains { $0.amount < 0 } ? try await BankPosting.recentPayments(asOf: services.today(), on: connection) : []
            return ["transactions": .array(lines.map { line in
                guard case .object(var object) = line.json else { return line.json }
                guard line.currency == currency.code else { object["suggestions"] = []; return .object(object) }
                if line.amount > 0 {
                    object["suggestions"] = .array((book?.candidates(for: line) ?? []).map(BankPosting.suggestionJSON))
                } else {
                    object["suggestions"] = .array(BankMatching.returns(
                        amount: line.amount, remittance: line.remittance, counterpartyAccount: line.counterpartyAccount,
                        bookingDay: line.bookingDate.daysSinceEpoch, payments: payments).map(BankPosting.suggestionJSON))
                }
                return .object(object)
            }), "next_after": rows.nextAfter(limit: limit)]
        }
    }

    static func match(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("transaction_id"))
        let customerID = Int64(try params.id("customer_id"))
        let allocations = try PaymentMethods.requestedLines(params, currency: services.settings.currency)
        let current = context
        return try await services.transaction(current) { tx in
            let line = try await BankTransactionRecord.load(id, forUpdate: true, on: tx)
            _ = try await BankPosting.post([BankPosting.Post(line: line, customerID: customerID, allocations: allocations, reasons: ["matched by hand"])],
                                           automatic: false, services: services, context: current, on: tx)[0].get()
            _ = try await OutboxStore.recheck(customerIDs: [customerID], today: services.today(), method: "bank.match", context: current, on: tx)
            return try await BankTransactionRecord.load(id, on: tx).json
        }
    }

    static func ignore(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let id = Int64(try params.id("transaction_id"))
        let reason = try params.text("reason", maxLength: 500)
        let current = context
        return try await services.transaction(current) { tx in
            let line = try await BankTransactionRecord.load(id, forUpdate: true, on: tx)
            guard line.status == .unmatched else { throw RPCFailure.conflict("the bank line is already \(line.status.rawValue)") }
            try await tx.query("UPDATE bank_transactions SET status = 'ignored', ignore_reason = \(reason) WHERE id = \(id)")
            try await Audit.record(tx, context: current, method: "bank.ignore", entity: "bank_transaction", entityID: String(id),
                                   details: ["reason": .string(reason)])
            return try await BankTransactionRecord.load(id, on: tx).json
        }
    }

    /// A statement's lines, from its text in `format` (and a CSV profile and account).
    static func lines(format: BankStatementFormat, content: String, profile: BankCSVProfile?, account: String?) throws(RPCFailure) -> [BankLine] {
        do {
            switch format {
            case .camt053:
                // Foundation's XMLParser on Linux hands libxml2 the whole document at once, and libxml2
                // refuses more than 10,000,000 bytes in one piece (swift-corelibs-foundation#4851).
                guard content.utf8.count <= Camt053.maxBytes else {
                    throw RPCFailure.invalidParams("content", "a camt.053 file of more than 10 MB (about 25,000 entries) is not read in one piece: import it a day (or a few) at a time")
                }
                return try Camt053.parse(Data(content.utf8))
            case .mt940: return try MT940.parse(content)
            case .csv:
                guard let profile else { throw RPCFailure.invalidParams("profile", "a CSV statement needs its bank's profile (bank.profiles.list)") }
                guard let account, !account.isEmpty else { throw RPCFailure.invalidParams("account", "a CSV statement needs the account it is of") }
                let records: [CSV.Record]
                do { records = try CSV.parse(Data(content.utf8), delimiter: profile.delimiter) } catch {
                    throw BankFormatError("the file", "\(error)")
                }
                return try profile.lines(records, account: account)
            }
        } catch let error as BankFormatError {
            throw RPCFailure.invalidParams("content", "the \(format.rawValue) statement does not read: \(error.description)")
        } catch let failure as RPCFailure {
            throw failure
        } catch {
            throw RPCFailure.invalidParams("content", "the \(format.rawValue) statement does not read")
        }
    }

    static func importStatement(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let format = try params.choice("format", BankStatementFormat.self)
        let content = try params.string("content", maxLength: services.settings.maxLineBytes)
        let profileName = try params.optionalString("profile", maxLength: 64)
        let account = try params.optionalString("account", maxLength: 64)?.trimmingCharacters(in: .whitespaces)
        let dryRun = try params.optionalBool("dry_run") ?? false
        let clock = ContinuousClock()
        let started = clock.now
        var marks: [(String, ContinuousClock.Instant)] = []
        let profile = try profileName.map { name throws(RPCFailure) in try BankProfiles.load(name, directory: services.settings.bankProfilesDirectory) }
        let lines = try lines(format: format, content: content, profile: profile, account: account)
        guard lines.count <= 100_000 else { throw RPCFailure.invalidParams("content", "a statement of more than 100,000 lines: split it") }
        for line in lines where !DateWindow.contains(line.bookingDay) || !(line.valueDay.map(DateWindow.contains) ?? true) {
            throw RPCFailure.invalidParams("content", "\(line.location): a date outside \(DateWindow.text)")
        }
        for line in lines where abs(line.amount) >= 10_000_000_000_000_000 || line.currency.count > 3 {
            throw RPCFailure.invalidParams("content", "\(line.location): the amount or currency is out of range")
        }
        let keys = BankLine.duplicateKeys(lines).map { Secrets.sha256Hex(Array($0.utf8)) }
        let credits = lines.filter { $0.amount > 0 }.reduce(Decimal(0)) { $0 + $1.amount }
        let debits = lines.filter { $0.amount < 0 }.reduce(Decimal(0)) { $0 - $1.amount }
        let current = context
        marks.append(("parse_ms", clock.now))
        defer {
            var metadata: Logger.Metadata = ["lines": "\(lines.count)", "dry_run": "\(dryRun)", "total_ms": "\((clock.now - started).milliseconds)"]
            var previous = started
            for (name, instant) in marks {
                metadata[name] = "\((instant - previous).milliseconds)"
                previous = instant
            }
            context.logger.info("bank statement imported", metadata: metadata)
        }
        return try await services.transaction(current) { tx in
            // One import at a time per account set, so two imports of the same file cannot both count a line as new.
            for account in Set(lines.map(\.account)).sorted() {
                try await tx.query("SELECT pg_advisory_xact_lock(hashtext('ashrai.bank.' || \(account)))")
            }
            // One probe of the (account, duplicate_key) index per line. (`duplicate_key = ANY($1)` was a
            // scan comparing every stored line with every key: 6 s per 20,000 stored lines for a 20,000-line file.)
            let existing = Set(try await tx.query("""
                SELECT t.account || ' ' || t.duplicate_key
                FROM unnest(\(PostgresArray(lines.map(\.account)))::text[], \(PostgresArray(keys))::text[]) AS k(account, key)
                JOIN bank_transactions t ON t.account = k.account AND t.duplicate_key = k.key
                """).map { try $0.decode(String.self, at: 0) })
            let fresh = zip(lines, keys).filter { !existing.contains($0.0.account + " " + $0.1) }
            marks.append(("dedupe_ms", clock.now))
            var result: JSONObject = [
                "statement_id": .null, "format": .string(format.rawValue), "dry_run": .bool(dryRun), "lines": .int(lines.count),
                "new": .int(fresh.count), "duplicates": .int(lines.count - fresh.count), "credits": .money(credits), "debits": .money(debits),
                "transactions": [], "posted": 0, "cheques_cleared": 0, "messages_cancelled": 0,
            ]
            guard !dryRun else { return .object(result) }
            let statementID = try await tx.query("""
                INSERT INTO bank_statements (format, profile, file_sha256, line_count, new_count, imported_by)
                VALUES (\(format.rawValue), \(profileName), \(Secrets.sha256Hex(Array(content.utf8))), \(lines.count), \(fresh.count),
                        \(current.session?.userID))
                RETURNING id
                """).scalar(Int64.self)
            // In slices of 1,000 lines: one statement per slice, arrays unnested server-side.
            var inserted: [BankTransactionRecord] = []
            for start in stride(from: 0, to: fresh.count, by: 1000) {
                let slice = fresh[start..<min(start + 1000, fresh.count)]
                func column(_ value: (BankLine) -> String?) -> PostgresArray { PostgresArray(slice.map { value($0.0) }) }
                let rows = try await tx.query("""
                    INSERT INTO bank_transactions (statement_id, account, booking_date, value_date, amount, currency, counterparty_name,
                                                   counterparty_account, remittance, bank_reference, location, duplicate_key)
                    SELECT \(statementID), * FROM unnest(
                        \(column { $0.account })::text[], \(column { PostgresDate(daysSinceEpoch: $0.bookingDay).description })::date[],
                        \(column { $0.valueDay.map { PostgresDate(daysSinceEpoch: $0).description } })::date[],
                        \(column { PostgresNumeric.text(of: $0.amount) })::numeric[], \(column { $0.currency })::text[],
                        \(column { $0.counterpartyName })::text[], \(column { $0.counterpartyAccount })::text[], \(column { $0.remittance })::text[],
                        \(column { $0.bankReference })::text[], \(column { $0.location })::text[],
                        \(PostgresArray(slice.map { $0.1 }))::text[])
                    ON CONFLICT (account, duplicate_key) DO NOTHING
                    RETURNING \(unescaped: BankTransactionRecord.columns.replacingOccurrences(of: "t.", with: ""))
                    """)
                inserted += try rows.map(BankTransactionRecord.init(row:))
            }
            marks.append(("insert_ms", clock.now))
            // Cheques paid in first (a held cheque is applied; one applied on its value date is confirmed), then the matcher.
            let cleared = try await ChequeStore.clearFromStatement(inserted, services: services, context: current, on: tx)
            marks.append(("cheques_ms", clock.now))
            let auto = try await autoPost(inserted.filter { !cleared.lines.contains($0.id) }, services: services, context: current, on: tx)
            marks.append(("match_and_post_ms", clock.now))
            let paid = Set(auto).union(cleared.customers)
            let posted = auto.count + cleared.lines.count
            result["cheques_cleared"] = .int(cleared.lines.count)
            // Money in: letters waiting to go to those customers are re-checked now (a paid invoice gets no reminder).
            result["messages_cancelled"] = .int(try await OutboxStore.recheck(customerIDs: paid, today: services.today(),
                                                                              method: "bank.statements.import", context: current, on: tx))
            marks.append(("recheck_ms", clock.now))
            var shown = Array(inserted.prefix(100))
            if posted > 0 {   // as they are now (posted, cleared)
                shown = try await tx.query("""
                    SELECT \(unescaped: BankTransactionRecord.columns) FROM bank_transactions t
                    WHERE t.id = ANY(\(PostgresArray(shown.map(\.id)))::bigint[]) ORDER BY t.id
                    """).map(BankTransactionRecord.init(row:))
            }
            result["posted"] = .int(posted)
            result["statement_id"] = .id(statementID)
            result["new"] = .int(inserted.count)
            result["duplicates"] = .int(lines.count - inserted.count)
            result["transactions"] = .array(shown.map(\.json))
            try await Audit.record(tx, context: current, method: "bank.statements.import", entity: "bank_statement", entityID: String(statementID),
                                   details: ["format": .string(format.rawValue), "lines": .int(lines.count), "new": .int(inserted.count),
                                             "credits": .money(credits), "debits": .money(debits)])
            return .object(result)
        }
    }

    static func list(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let status = try params.optionalChoice("status", BankTransactionStatus.self)?.rawValue
        let statementID = try params.optionalInt("statement_id", range: 1...Int.max).map(Int64.init)
        let limit = try params.optionalInt("limit", range: 1...500) ?? 100
        let after = try params.optionalInt("after", range: 1...Int.max).map(Int64.init) ?? 0
        let rows = try await services.read(context, query: """
            SELECT \(unescaped: BankTransactionRecord.columns) FROM bank_transactions t
            WHERE t.id > \(after) AND (\(status)::text IS NULL OR t.status = \(status))
              AND (\(statementID)::bigint IS NULL OR t.statement_id = \(statementID))
            ORDER BY t.id LIMIT \(limit)
            """)
        return ["transactions": .array(rows.decodeEach("bank transaction", logger: context.logger) { try BankTransactionRecord(row: $0).json }),
                "next_after": rows.nextAfter(limit: limit)]
    }

    static func profiles(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        ["profiles": .array(BankProfiles.all(directory: services.settings.bankProfilesDirectory).map { profile in
            ["name": .string(profile.name), "bank": .string(profile.bank), "export": .string(profile.export)]
        })]
    }
}

/// The CSV export profiles in `Config/bank-profiles/NAME.json`, read when used.
enum BankProfiles {
    struct Entry {
        var name: String
        var bank: String
        var export: String
        var profile: BankCSVProfile
    }

    static func load(_ name: String, directory: String) throws(RPCFailure) -> BankCSVProfile {
        guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_") }),
              let entry = read(directory + "/" + name + ".json", name: name) else {
            let known = all(directory: directory).map(\.name).joined(separator: ", ")
            throw RPCFailure.invalidParams("profile", "no bank profile \(name); known: \(known)")
        }
        return entry.profile
    }

    static func all(directory: String) -> [Entry] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().compactMap { file in
            read(directory + "/" + file, name: String(file.dropLast(5)))
        }
    }

    /// A profile file: `{bank, export, delimiter?, date_format?, currency?, skip_rows?, columns: {date, value_date?, amount? | credit?, debit?, reference?, description?, payer?, payer_account?}}`.
    static func read(_ path: String, name: String) -> Entry? {
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSONValue.parse(Array(data)),
              let columns = json["columns"]?.objectValue, let date = columns["date"]?.stringValue else { return nil }
        var profile = BankCSVProfile(name: name, date: date)
        if let delimiter = json["delimiter"]?.stringValue {
            guard delimiter.unicodeScalars.count == 1, let scalar = delimiter.unicodeScalars.first else { return nil }
            profile.delimiter = scalar
        }
        if let format = json["date_format"]?.stringValue { profile.dateFormat = format }
        if let currency = json["currency"]?.stringValue { profile.currency = currency }
        if let skip = json["skip_rows"]?.intValue { profile.skipRows = max(0, min(skip, 50)) }
        profile.valueDate = columns["value_date"]?.stringValue
        profile.amount = columns["amount"]?.stringValue
        profile.credit = columns["credit"]?.stringValue
        profile.debit = columns["debit"]?.stringValue
        profile.reference = columns["reference"]?.stringValue
        profile.description = columns["description"]?.stringValue
        profile.payer = columns["payer"]?.stringValue
        profile.payerAccount = columns["payer_account"]?.stringValue
        return Entry(name: name, bank: json["bank"]?.stringValue ?? name, export: json["export"]?.stringValue ?? "", profile: profile)
    }
}

extension Duration {
    /// Whole milliseconds, for logs.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
