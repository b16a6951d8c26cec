/// The column names and types of a result.
public struct PostgresColumns: Sendable {
    /// Column names in order.
    public let names: [String]
    /// Column types in order.
    public let types: [PostgresDataType]
    /// Each name's first position, built once per result: decoding a row looks up every column by name, and a
    /// scan of the names for each was a tenth of a 20-invoice list's cost in the daemon.
    private let positions: [String: Int]

    /// Columns of a result.
    public init(names: [String], types: [PostgresDataType]) {
        self.names = names
        self.types = types
        var positions: [String: Int] = [:]
        positions.reserveCapacity(names.count)
        for (index, name) in names.enumerated() where positions[name] == nil { positions[name] = index }
        self.positions = positions
    }

    /// The position of a column, if present.
    public func index(of name: String) -> Int? { positions[name] }
}

/// One row of a result, already copied out of libpq.
public struct PostgresRow: Sendable {
    /// The result's columns.
    public let columns: PostgresColumns
    let values: ArraySlice<String?>

    /// Decodes the column at `index`. Errors name the column.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, at index: Int) throws -> Value {
        guard index >= 0, index < columns.names.count else {
            throw PostgresError(code: .decoding, message: "no column at index \(index)", decodingColumn: "#\(index)")
        }
        let name = columns.names[index]
        do {
            guard let text = values[values.startIndex + index] else { return try Value.postgresNull() }
            return try Value(postgresText: text, type: columns.types[index])
        } catch let failure as PostgresDecodingFailure {
            throw PostgresError(
                code: .decoding,
                message: "column \"\(name)\" cannot be decoded as \(Value.self): \(failure.reason)",
                decodingColumn: name)
        }
    }

    /// Decodes the column named `name`. Errors name the column.
    public func decode<Value: PostgresDecodable>(_ type: Value.Type = Value.self, column name: String) throws -> Value {
        guard let index = columns.index(of: name) else {
            throw PostgresError(code: .decoding, message: "no column named \"\(name)\"", decodingColumn: name)
        }
        return try decode(type, at: index)
    }

    /// Whether the column at `index` (a valid one) is NULL.
    func isNull(at index: Int) -> Bool { values[values.startIndex + index] == nil }

    /// Whether the column named `name` is NULL (false if there is no such column).
    public func isNull(_ name: String) -> Bool {
        guard let index = columns.index(of: name) else { return false }
        return values[values.startIndex + index] == nil
    }
}

/// A complete result, copied out of libpq so the `PGresult` is freed at once.
public struct PostgresRows: Sendable, RandomAccessCollection {
    /// The result's columns.
    public let columns: PostgresColumns
    /// The command tag (`INSERT 0 1`, `SELECT 3`, …).
    public let commandTag: String
    /// Rows affected by INSERT/UPDATE/DELETE/MERGE, or returned by SELECT.
    public let affectedRows: Int
    let cells: [String?]

    public var startIndex: Int { 0 }
    public var endIndex: Int { columns.names.isEmpty ? 0 : cells.count / columns.names.count }

    public subscript(position: Int) -> PostgresRow {
        let width = columns.names.count
        return PostgresRow(columns: columns, values: cells[(position * width)..<((position + 1) * width)])
    }

    /// The single row of the result; throws if there is none or more than one.
    public func one() throws -> PostgresRow {
        guard count == 1 else {
            throw PostgresError(code: .unexpectedResult, message: "expected exactly one row, got \(count)")
        }
        return self[0]
    }

    /// The first column of the single row, decoded.
    public func scalar<Value: PostgresDecodable>(_ type: Value.Type = Value.self) throws -> Value {
        try one().decode(type, at: 0)
    }
}
