import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

/// `credit.*`: risk data, assessments, versioned terms, the credit check.
enum CreditMethods {
    static let handlers: [String: MethodHandler] = [
        "credit.financials.add": addFinancials, "credit.references.add": addReference, "credit.assess": assess,
        "credit.assessments": assessments, "credit.terms.set": setTerms, "credit.terms.get": getTerms,
        "credit.terms.history": termsHistory, "credit.check": check,
    ]

    static let statementFields = ["current_assets", "current_liabilities", "total_assets", "total_liabilities",
                                  "retained_earnings", "ebit", "equity", "revenue"]

    static func addFinancials(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let periodEnd = try params.date("period_end")
        var amounts: [String: Decimal] = [:]
        for field in statementFields {
            // Retained earnings, EBIT and equity may be negative (losses); the rest may not.
            let negativeAllowed = ["retained_earnings", "ebit", "equity"].contains(field)
            amounts[field] = try params.money(field, allowNegative: negativeAllowed)
        }
        let current = context
        return try await services.transaction(current) { tx in
            _ = try await CustomerRecord.require(customerID, on: tx)
            let id = try await tx.query("""
                INSERT INTO financial_statements (customer_id, period_end, current_assets, current_liabilities, total_assets,
                    total_liabilities, retained_earnings, ebit, equity, revenue, created_by)
                VALUES (\(customerID), \(periodEnd), \(amounts["current_assets"]!), \(amounts["current_liabilities"]!),
                    \(amounts["total_assets"]!), \(amounts["total_liabilities"]!), \(amounts["retained_earnings"]!),
                    \(amounts["ebit"]!), \(amounts["equity"]!), \(amounts["revenue"]!), \(current.session?.userID))
                RETURNING id
                """).scalar(Int64.self)
            var after: JSONObject = ["id": .id(id), "period_end": .date(periodEnd)]
            for (key, value) in amounts { after[key] = .money(value) }
            try await Audit.record(tx, context: current, method: "credit.financials.add", entity: "customer",
                                   entityID: String(customerID), after: .object(after))
            return ["id": .id(id)]
        }
    }

    static func addReference(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let kind = try params.string("kind", maxLength: 20)
        guard ["bureau_report", "trade_reference", "bank_reference"].contains(kind) else {
            throw RPCFailure.invalidParams("kind", "kind must be one of: bureau_report, trade_reference, bank_reference")
        }
        let source = try params.text("source", maxLength: 200)
        let receivedOn = try params.date("received_on")
        let rating = try params.optionalInt("rating", range: 1...5)
        let notes = try params.optionalString("notes", maxLength: 2000)
        let current = context
        return try await services.transaction(current) { tx in
            _ = try await CustomerRecord.require(customerID, on: tx)
            let id = try await tx.query("""
                INSERT INTO credit_references (customer_id, kind, source, received_on, rating, notes, created_by)
                VALUES (\(customerID), \(kind), \(source), \(receivedOn), \(rating), \(notes), \(current.session?.userID))
                RETURNING id
                """).scalar(Int64.self)
            try await Audit.record(tx, context: current, method: "credit.references.add", entity: "customer", entityID: String(customerID),
                                   after: ["id": .id(id), "kind": .string(kind), "source": .string(source), "received_on": .date(receivedOn),
                                           "rating": rating.map { .int($0) } ?? .null])
            return ["id": .id(id)]
        }
    }

    /// How the customer has paid us, from the ledger as of a day: every allocation of a
    /// payment received by then (not reversed by then), weighted by amount — the share paid by
    /// the due date, the average and worst delay — plus the promises to pay broken by then and
    /// the disputes opened by then (the scorecard takes 3 points per broken promise).
    static func paymentHistory(customerID: Int64, asOf: PostgresDate, on tx: PostgresConnection) async throws -> PaymentHistory {
        let row = try await tx.query("""
            SELECT count(DISTINCT a.invoice_id) AS invoices,
                   coalesce(sum(a.amount), 0) AS paid,
                   coalesce(sum(a.amount) FILTER (WHERE p.received_on <= i.due_date), 0) AS on_time,
                   coalesce(sum(a.amount * greatest(0, p.received_on - i.due_date)), 0) AS weighted_days,
                   coalesce(max(greatest(0, p.received_on - i.due_date)), 0) AS worst
            FROM allocations a JOIN payments p ON p.id = a.payment_id JOIN invoices i ON i.id = a.invoice_id
            WHERE i.customer_id = \(customerID) AND p.received_on <= \(asOf)
              AND (a.reversed_at IS NULL OR a.reversed_at::date > \(asOf)) AND a.amount > 0
            """).one()
        let broken = try await InteractionMethods.promises(asOf: asOf, customerID: customerID, on: tx).filter { $0.status == .broken }.count
        let disputes = try await tx.query("""
            SELECT count(*) FROM disputes WHERE customer_id = \(customerID) AND opened_on <= \(asOf)
            """).scalar(Int.self)
        // Money the bank brought back: returned payments, and cheques that bounced before they were applied.
        let returned = try await tx.query("""
            SELECT (SELECT count(*) FROM payments WHERE customer_id = \(customerID) AND returned_on <= \(asOf))
                 + (SELECT count(*) FROM cheques WHERE customer_id = \(customerID) AND status = 'bounced' AND payment_id IS NULL
                    AND bounced_on <= \(asOf))
            """).scalar(Int.self)
        let paid = try row.decode(Decimal.self, column: "paid")
        guard paid > 0 else { return PaymentHistory(brokenPromises: broken, disputes: disputes, returnedPayments: returned) }
        return PaymentHistory(
            settledInvoices: try row.decode(Int.self, column: "invoices"),
            shareOnTime: try row.decode(Decimal.self, column: "on_time") / paid,
            weightedDaysLate: try row.decode(Decimal.self, column: "weighted_days") / paid,
            worstDelayDays: try row.decode(Int.self, column: "worst"), brokenPromises: broken, disputes: disputes, returnedPayments: returned)
    }

    static func assessmentJSON(_ row: PostgresRow) throws -> JSONValue {
        [
            "id": .id(try row.decode(Int64.self, column: "id")),
            "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
            "as_of": .date(try row.decode(PostgresDate.self, column: "as_of")),
            "score": .int(try row.decode(Int.self, column: "score")),
            "grade": .string(try row.decode(String.self, column: "grade")),
            "reasons": try row.decode(JSONValue.self, column: "reasons"),
            "z_score": try row.decode(Decimal?.self, column: "z_score").map { .decimal($0) } ?? .null,
            "z_zone": .optional(try row.decode(String?.self, column: "z_zone")),
            "suggested_terms": [
                "credit_limit": .money(try row.decode(Decimal.self, column: "suggested_limit")),
                "net_days": .int(try row.decode(Int.self, column: "suggested_net_days")),
            ],
            "created_at": .string(rfc3339(try row.decode(Date.self, column: "created_at"))),
        ]
    }

    static let assessmentColumns = "id, customer_id, as_of, score, grade, reasons, z_score, z_zone, suggested_limit, suggested_net_days, created_at"

    static func assess(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let requestedAsOf = try params.optionalDate("as_of")
        let policy = services.settings.creditPolicy
        let current = context
        return try await services.transaction(current) { tx in
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            let asOf = services.day(requestedAsOf)
            let statementRows = try await tx.query("""
                SELECT current_assets, current_liabilities, total_assets, total_liabilities, retained_earnings, ebit, equity, revenue
                FROM financial_statements WHERE customer_id = \(customerID) AND period_end <= \(asOf)
                ORDER BY period_end DESC, id DESC LIMIT 1
                """)
            let financials = try statementRows.first.map { row in
                FinancialStatement(
                    currentAssets: try row.decode(Decimal.self, column: "current_assets"),
                    currentLiabilities: try row.decode(Decimal.self, column: "current_liabilities"),
                    totalAssets: try row.decode(Decimal.self, column: "total_assets"),
                    totalLiabilities: try row.decode(Decimal.self, column: "total_liabilities"),
                    retainedEarnings: try row.decode(Decimal.self, column: "retained_earnings"),
                    ebit: try row.decode(Decimal.self, column: "ebit"),
                    equity: try row.decode(Decimal.self, column: "equity"),
                    revenue: try row.decode(Decimal.self, column: "revenue"))
            }
            let ratings = try await tx.query("""
                SELECT rating FROM credit_references WHERE customer_id = \(customerID) AND received_on <= \(asOf) AND rating IS NOT NULL
                """).map { try $0.decode(Int.self, at: 0) }
            let tenure = try await tx.query(
                "SELECT greatest(0, \(asOf) - created_at::date) FROM customers WHERE id = \(customerID)").scalar(Int.self)
            let history = try await paymentHistory(customerID: customerID, asOf: asOf, on: tx)
            let result = CreditScorer.assess(
                AssessmentInput(financials: financials, referenceRatings: ratings, history: history, tenureDays: tenure), policy: policy)
            let reasons = JSONValue.array(result.reasons.map {
                ["factor": .string($0.factor), "value": .string($0.value), "points": .int($0.points), "note": .string($0.note)]
            })
            let row = try await tx.query("""
                INSERT INTO credit_assessments (customer_id, as_of, score, grade, reasons, z_score, z_zone, suggested_limit,
                    suggested_net_days, created_by)
                VALUES (\(customerID), \(asOf), \(result.score), \(result.grade.rawValue), \(reasons), \(result.altman?.score),
                    \(result.altman?.zone.rawValue), \(result.suggestedTerms.creditLimit), \(result.suggestedTerms.netDays),
                    \(current.session?.userID))
                RETURNING \(unescaped: assessmentColumns)
                """).one()
            let months = policy.reviewMonths[result.grade] ?? 1
            try await tx.query("""
                UPDATE customers SET grade = \(result.grade.rawValue), score = \(result.score),
                    next_review_on = coalesce(next_review_on, (\(asOf) + make_interval(months => \(months)::int))::date),
                    updated_at = now(), version = version + 1
                WHERE id = \(customerID)
                """)
            let json = try assessmentJSON(row)
            try await Audit.record(tx, context: current, method: "credit.assess", entity: "customer", entityID: String(customerID),
                                   after: ["score": .int(result.score), "grade": .string(result.grade.rawValue), "assessment_id": json["id"]!])
            return json
        }
    }

    static func assessments(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let limit = try params.optionalInt("limit", range: 1...100) ?? 20
        return try await services.read(context) { connection in
            _ = try await CustomerRecord.require(customerID, on: connection)
            let rows = try await connection.query("""
                SELECT \(unescaped: assessmentColumns) FROM credit_assessments WHERE customer_id = \(customerID)
                ORDER BY id DESC LIMIT \(limit)
                """)
            return ["assessments": .array(try rows.map(assessmentJSON))]
        }
    }

    // MARK: - Terms

    static let termsColumns = """
        t.customer_id, t.version, t.credit_limit, t.net_days, t.terms_basis, t.late_interest_rate, t.early_discount_rate,
        t.early_discount_days, t.currency, t.reason, u.username AS set_by, t.set_at, c.language
        """

    /// The rows `termsColumns` reads from: a terms version, who set it, and its customer (whose
    /// language the terms are described in).
    static let termsFrom = "credit_terms t JOIN customers c ON c.id = t.customer_id LEFT JOIN users u ON u.id = t.set_by"

    static func termsJSON(_ row: PostgresRow) throws -> JSONValue {
        let netDays = try row.decode(Int.self, column: "net_days")
        let basis = try TermsBasis(rawValue: row.decode(String.self, column: "terms_basis")) ?? .net
        return [
            "customer_id": .id(try row.decode(Int64.self, column: "customer_id")),
            "version": .int(try row.decode(Int.self, column: "version")),
            "credit_limit": .money(try row.decode(Decimal.self, column: "credit_limit")),
            "net_days": .int(netDays), "terms_basis": .string(basis.rawValue),
            "description": .string(basis.describe(netDays: netDays, language: try row.decode(String.self, column: "language"))),
            "late_interest_rate": .decimal(try row.decode(Decimal.self, column: "late_interest_rate")),
            "early_discount_rate": try row.decode(Decimal?.self, column: "early_discount_rate").map { .decimal($0) } ?? .null,
            "early_discount_days": try row.decode(Int?.self, column: "early_discount_days").map { .int($0) } ?? .null,
            "currency": .string(try row.decode(String.self, column: "currency")),
            "reason": .string(try row.decode(String.self, column: "reason")),
            "set_by": .optional(try row.decode(String?.self, column: "set_by")),
            "set_at": .string(rfc3339(try row.decode(Date.self, column: "set_at"))),
            "is_default": false,
        ]
    }

    /// A stored terms version (or the defaults, version 0) as the ledger uses it, plus its API
    /// form. Its values are a `CreditTerms` (`terms.creditLimit` reads through).
    @dynamicMemberLookup
    struct Terms {
        var version: Int
        var values: CreditTerms
        var json: JSONValue

        subscript<T>(dynamicMember path: KeyPath<CreditTerms, T>) -> T { values[keyPath: path] }

        /// The ledger fields of a `credit_terms` row (columns version, credit_limit, net_days,
        /// terms_basis, late_interest_rate, early_discount_rate, early_discount_days, currency).
        init(_ row: PostgresRow, services: Services, json: JSONValue = .null) throws {
            version = try row.decode(Int.self, column: "version")
            values = CreditTerms(
                currency: Currency(code: try row.decode(String.self, column: "currency")) ?? services.settings.currency,
                creditLimit: try row.decode(Decimal.self, column: "credit_limit"),
                netDays: try row.decode(Int.self, column: "net_days"),
                basis: TermsBasis(rawValue: try row.decode(String.self, column: "terms_basis")) ?? .net,
                lateInterestRate: try row.decode(Decimal.self, column: "late_interest_rate"),
                earlyDiscountRate: try row.decode(Decimal?.self, column: "early_discount_rate"),
                earlyDiscountDays: try row.decode(Int?.self, column: "early_discount_days"))
            self.json = json
        }

        init(version: Int, values: CreditTerms, json: JSONValue) {
            self.version = version
            self.values = values
            self.json = json
        }

        /// The due date of an invoice issued on `issueDate` under these terms (`TermsBasis.dueDay`).
        func dueDate(issuedOn issueDate: PostgresDate) -> PostgresDate {
            PostgresDate(daysSinceEpoch: values.dueDay(issueDay: issueDate.daysSinceEpoch))
        }

        /// The configured defaults, version 0, for a customer with no terms of its own.
        static func defaults(customerID: Int64, language: String = "en", services: Services) -> Terms {
            let defaults = services.settings.defaultTerms
            let json: JSONValue = [
                "customer_id": .id(customerID), "version": 0, "credit_limit": .money(defaults.creditLimit),
                "net_days": .int(defaults.netDays), "terms_basis": .string(defaults.basis.rawValue),
                "description": .string(defaults.basis.describe(netDays: defaults.netDays, language: language)),
                "late_interest_rate": .decimal(defaults.lateInterestRate),
                "early_discount_rate": .null, "early_discount_days": .null, "currency": .string(services.settings.currency.code),
                "reason": "default terms (none set for this customer)", "set_by": .null, "set_at": .null, "is_default": true,
            ]
            return Terms(version: 0, values: CreditTerms(currency: services.settings.currency, creditLimit: defaults.creditLimit,
                                                         netDays: defaults.netDays, basis: defaults.basis,
                                                         lateInterestRate: defaults.lateInterestRate), json: json)
        }
    }

    /// The terms in force: the newest version, else the configured defaults (version 0).
    static func termsInForce(customerID: Int64, services: Services, on connection: PostgresConnection) async throws -> Terms {
        let rows = try await connection.query("""
            SELECT \(unescaped: termsColumns) FROM \(unescaped: termsFrom)
            WHERE t.customer_id = \(customerID) ORDER BY t.version DESC LIMIT 1
            """)
        if let row = rows.first { return try Terms(row, services: services, json: try termsJSON(row)) }
        let language = try await connection.query("SELECT language FROM customers WHERE id = \(customerID)").first?.decode(String.self, at: 0)
        return Terms.defaults(customerID: customerID, language: language ?? "en", services: services)
    }

    /// New terms as a caller states them: `CreditTerms`, read from params once for
    /// `credit.terms.set` and for the terms columns of `customers.import`.
    typealias TermsInput = CreditTerms

    /// Stores `input` as the customer's next terms version, with its audit record. The caller
    /// holds the customer row lock (which serialises version numbers per customer).
    static func insertTerms(customerID: Int64, _ input: TermsInput, reason: String, method: String, services: Services,
                            context: CallContext, on tx: PostgresConnection) async throws -> JSONValue {
        let before = try await termsInForce(customerID: customerID, services: services, on: tx).json
        try await tx.query("""
            INSERT INTO credit_terms (customer_id, version, credit_limit, net_days, terms_basis, late_interest_rate, early_discount_rate,
                early_discount_days, currency, reason, set_by)
            SELECT \(customerID), coalesce(max(version), 0) + 1, \(input.creditLimit), \(input.netDays), \(input.basis.rawValue),
                \(input.lateInterestRate), \(input.earlyDiscountRate), \(input.earlyDiscountDays), \(input.currency.code), \(reason),
                \(context.session?.userID)
            FROM credit_terms WHERE customer_id = \(customerID)
            """)
        let after = try await termsInForce(customerID: customerID, services: services, on: tx).json
        try await Audit.record(tx, context: context, method: method, entity: "customer", entityID: String(customerID),
                               before: before, after: after)
        return after
    }

    static func setTerms(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let input = try TermsInput(params, services: services, requireAll: true)
        let reason = try params.text("reason")
        let current = context
        return try await services.transaction(current) { tx in
            _ = try await CustomerRecord.require(customerID, forUpdate: true, on: tx)
            return try await insertTerms(customerID: customerID, input, reason: reason, method: "credit.terms.set",
                                         services: services, context: current, on: tx)
        }
    }

    static func getTerms(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        return try await services.read(context) { connection in
            _ = try await CustomerRecord.require(customerID, on: connection)
            return try await termsInForce(customerID: customerID, services: services, on: connection).json
        }
    }

    static func termsHistory(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        return try await services.read(context) { connection in
            _ = try await CustomerRecord.require(customerID, on: connection)
            let rows = try await connection.query("""
                SELECT \(unescaped: termsColumns) FROM \(unescaped: termsFrom)
                WHERE t.customer_id = \(customerID) ORDER BY t.version DESC
                """)
            return ["versions": .array(try rows.map(termsJSON))]
        }
    }

    /// The open balance the limit is measured against: what is still owed on open and
    /// partially paid invoices.
    static func exposure(customerID: Int64, on connection: PostgresConnection) async throws -> Decimal {
        try await connection.query("""
            SELECT \(unescaped: InvoiceStore.exposureSQL(customer: "c.id")) FROM (SELECT \(customerID)::bigint AS id) c
            """).scalar(Decimal.self)
    }

    static func check(services: Services, context: CallContext, params: Params) async throws -> JSONValue {
        let customerID = Int64(try params.id("customer_id"))
        let amount = try params.money("amount")   // 0 asks only for the figures
        return try await services.read(context) { connection in
            let customer = try await CustomerRecord.require(customerID, on: connection)
            let limit = try await termsInForce(customerID: customerID, services: services, on: connection).creditLimit
            let exposure = try await exposure(customerID: customerID, on: connection)
            let decision = CreditDecision.check(amount: amount, creditLimit: limit, exposure: exposure, status: customer.status)
            // A cheque in hand is not money: the limit is measured without it; both figures are shown.
            let cheques = try await connection.query("""
                SELECT coalesce(sum(amount), 0) FROM cheques WHERE customer_id = \(customerID) AND status = 'in_hand'
                """).scalar(Decimal.self)
            return [
                "allowed": .bool(decision.allowed), "credit_limit": .money(limit), "exposure": .money(exposure),
                "secured_by_cheques": .money(cheques), "exposure_after_cheques": .money(max(0, exposure - cheques)),
                "available": .money(decision.available), "status": .string(customer.status.rawValue),
                "reasons": .array(decision.reasons.map(JSONValue.string)),
            ]
        }
    }
}

extension CreditTerms {
    /// The terms params present in `params`. `requireAll` (terms.set) makes limit, net days and
    /// interest required; otherwise (an import row) a missing one takes the configured default.
    init(_ params: Params, services: Services, requireAll: Bool) throws {
        let currencyCode = try params.optionalString("currency", maxLength: 3) ?? services.settings.currency.code
        guard let currency = Currency(code: currencyCode) else {
            throw RPCFailure.invalidParams("currency", "currency must be an ISO 4217 code such as ILS")
        }
        let defaults = services.settings.defaultTerms
        let creditLimit = requireAll || params.has("credit_limit") ? try params.money("credit_limit", currency: currency) : defaults.creditLimit
        guard let netDays = try params.optionalInt("net_days", range: 0...365) ?? (requireAll ? nil : defaults.netDays) else {
            throw RPCFailure.invalidParams("net_days", "net_days is required")
        }
        guard let interest = try params.optionalPercent("late_interest_rate") ?? (requireAll ? nil : defaults.lateInterestRate) else {
            throw RPCFailure.invalidParams("late_interest_rate", "late_interest_rate is required")
        }
        self.init(currency: currency, creditLimit: creditLimit, netDays: netDays,
                  basis: try params.optionalChoice("terms_basis", TermsBasis.self) ?? .net, lateInterestRate: interest,
                  earlyDiscountRate: try params.optionalPercent("early_discount_rate"),
                  earlyDiscountDays: try params.optionalInt("early_discount_days", range: 0...365))
        if let problem { throw RPCFailure.invalidParams(problem.field, problem.message) }
    }

    /// The params that make up terms (an import row carries them beside the customer's own).
    static let paramNames = ["credit_limit", "net_days", "terms_basis", "late_interest_rate", "early_discount_rate",
                             "early_discount_days", "currency"]
}
