import AshraiCore
import AshraiProtocol
import Foundation
import Postgres

extension Params {
    /// A calendar day `YYYY-MM-DD` inside `DateWindow` (1900–2199).
    func optionalDate(_ name: String) throws(RPCFailure) -> PostgresDate? {
        guard let text = try optionalString(name, maxLength: 10) else { return nil }
        guard let date = PostgresDate(iso: text) else { throw .invalidParams(name, "\(name) must be a date YYYY-MM-DD") }
        guard DateWindow.contains(date.daysSinceEpoch) else {
            throw .invalidParams(name, "\(name) must be between \(DateWindow.text)")
        }
        return date
    }

    /// A required calendar day.
    func date(_ name: String) throws(RPCFailure) -> PostgresDate {
        guard let date = try optionalDate(name) else { throw .invalidParams(name, "\(name) is required") }
        return date
    }

    /// An amount as a decimal string (never a JSON number), at most `currency`'s decimals.
    func optionalMoney(_ name: String, currency: Currency = .ils, allowNegative: Bool = false) throws(RPCFailure) -> Decimal? {
        guard let value = object[name], !value.isNull else { return nil }
        guard case .string(let text) = value else {
            throw .invalidParams(name, "\(name) must be a decimal string such as \"1250.00\"")
        }
        let money: Money
        do { money = try Money.parse(text, currency: currency) } catch {
            switch error {
            case .tooManyDecimals(let allowed): throw .invalidParams(name, "\(name) has more than \(allowed) decimals")
            case .tooLarge: throw .invalidParams(name, "\(name) is too large")
            case .notADecimal: throw .invalidParams(name, "\(name) must be a decimal string such as \"1250.00\"")
            }
        }
        if !allowNegative, money.isNegative { throw .invalidParams(name, "\(name) must not be negative") }
        // The ledger's columns are numeric(18,2): 16 digits before the point.
        guard money.amount.magnitude < Self.storedMoneyBound else {
            throw .invalidParams(name, "\(name) is too large: at most 16 digits before the decimal point")
        }
        return money.amount
    }

    /// 10^16: amounts at or above it do not fit the ledger's numeric(18,2) columns.
    static let storedMoneyBound = Decimal(sign: .plus, exponent: 16, significand: 1)

    /// A required amount.
    func money(_ name: String, currency: Currency = .ils, allowNegative: Bool = false) throws(RPCFailure) -> Decimal {
        guard let amount = try optionalMoney(name, currency: currency, allowNegative: allowNegative) else {
            throw .invalidParams(name, "\(name) is required")
        }
        return amount
    }

    /// `currency` (default the business's) and a positive `amount` in it: what every money-moving write takes.
    func positiveAmount(defaultCurrency: Currency) throws(RPCFailure) -> (Decimal, Currency) {
        let code = try optionalString("currency", maxLength: 3) ?? defaultCurrency.code
        guard let currency = Currency(code: code) else {
            throw .invalidParams("currency", "currency must be an ISO 4217 code such as ILS")
        }
        let amount = try money("amount", currency: currency)
        guard amount > 0 else { throw .invalidParams("amount", "amount must be positive") }
        return (amount, currency)
    }

    /// A percentage 0–100 as a decimal string with at most 4 decimals.
    func optionalPercent(_ name: String) throws(RPCFailure) -> Decimal? {
        guard let value = object[name], !value.isNull else { return nil }
        guard case .string(let text) = value, let rate = try? Money.parse(text, currency: Currency.percent) else {
            throw .invalidParams(name, "\(name) must be a percentage as a decimal string, e.g. \"12.5\"")
        }
        guard !rate.isNegative, rate.amount <= 100 else { throw .invalidParams(name, "\(name) must be between 0 and 100") }
        return rate.amount
    }

    /// A trimmed, non-empty text.
    /// An optional RFC 3339 instant.
    func optionalInstant(_ name: String) throws(RPCFailure) -> Date? {
        guard let text = try optionalString(name, maxLength: 64) else { return nil }
        guard let date = RFC3339.parse(text) else {
            throw RPCFailure.invalidParams(name, "\(name) must be an RFC 3339 instant such as 2026-11-30T09:15:00Z (a real day and time, offset at most ±23:59)")
        }
        guard DateWindow.contains(Int((date.timeIntervalSince1970 / 86_400).rounded(.down))) else {
            throw RPCFailure.invalidParams(name, "\(name) must be between \(DateWindow.text)")
        }
        return date
    }

    /// An optional list of distinct positive ids (at most `maxCount`).
    func optionalIDs(_ name: String, maxCount: Int = 1000) throws(RPCFailure) -> [Int64]? {
        guard let value = object[name], !value.isNull else { return nil }
        guard let items = value.arrayValue else { throw RPCFailure.invalidParams(name, "\(name) must be an array of ids") }
        guard items.count <= maxCount else { throw RPCFailure.invalidParams(name, "\(name) has more than \(maxCount) ids") }
        var ids: [Int64] = []
        for item in items {
            guard let id = item.intValue, id > 0 else { throw RPCFailure.invalidParams(name, "\(name) must be an array of positive integer ids") }
            guard !ids.contains(Int64(id)) else { throw RPCFailure.invalidParams(name, "\(name) lists \(id) twice") }
            ids.append(Int64(id))
        }
        return ids
    }

    /// An optional list of distinct values of a string enumeration.
    func optionalChoices<T: RawRepresentable & CaseIterable & Equatable>(_ name: String, _ type: T.Type) throws(RPCFailure) -> [T]? where T.RawValue == String {
        guard let value = object[name], !value.isNull else { return nil }
        let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
        guard let items = value.arrayValue, items.count <= T.allCases.count else {
            throw RPCFailure.invalidParams(name, "\(name) must be a list of: \(allowed)")
        }
        var values: [T] = []
        for item in items {
            guard let text = item.stringValue, let choice = T(rawValue: text) else { throw RPCFailure.invalidParams(name, "\(name) must be a list of: \(allowed)") }
            guard !values.contains(choice) else { throw RPCFailure.invalidParams(name, "\(name) names \(text) twice") }
            values.append(choice)
        }
        return values
    }

    func text(_ name: String, maxLength: Int = 2000) throws(RPCFailure) -> String {
        let value = try string(name, maxLength: maxLength).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !value.isEmpty else { throw .invalidParams(name, "\(name) must not be empty") }
        return value
    }
}

extension Currency {
    /// Four decimals: how rates are parsed.
    static let percent = Currency(code: "XXX")!.withMinorUnits(4)
}

extension JSONValue {
    /// A decimal as a JSON string.
    static func decimal(_ value: Decimal) -> JSONValue { .string(PostgresNumeric.text(of: value)) }
    /// Money as a JSON string with all minor digits.
    static func money(_ value: Decimal, _ currency: Currency = .ils) -> JSONValue { .string(Money(value, currency).text) }
    /// An optional string.
    static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }
    /// An id.
    static func id(_ value: Int64) -> JSONValue { .number(String(value)) }
    /// A date.
    static func date(_ value: PostgresDate?) -> JSONValue { value.map { .string($0.description) } ?? .null }
}
