import Foundation

extension PostgresRow {
    /// Decodes the whole row into a `Decodable` record: each stored property is the column of the
    /// same name in snake case (`openAmount` ← `open_amount`, or the `CodingKeys` raw value as
    /// given when it already has an underscore). Properties whose type is `PostgresDecodable`
    /// decode as `decode(_:column:)` does; a `RawRepresentable` enum decodes from its raw value,
    /// and an unknown raw value is a decoding error naming the column. A missing column is an
    /// error unless the property is optional.
    ///
    ///     struct Balance: Decodable { var customerID: Int64; var openAmount: Decimal
    ///         enum CodingKeys: String, CodingKey { case customerID = "customer_id", openAmount } }
    ///     let balances = try rows.map { try $0.decode(Balance.self) }
    public func decode<Record: Decodable>(_ type: Record.Type) throws -> Record {
        do {
            return try Record(from: RowDecoder(row: self))
        } catch let error as PostgresError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            let column = context.codingPath.last.map { RowDecoder.column(for: $0) } ?? "?"
            throw PostgresError(code: .decoding, message: "column \"\(column)\" cannot be decoded as \(Record.self): \(context.debugDescription)",
                                decodingColumn: column)
        } catch {
            throw PostgresError(code: .decoding, message: "row cannot be decoded as \(Record.self): \(error)", decodingColumn: "?")
        }
    }
}

extension PostgresRows {
    /// Every row as a record (see `PostgresRow.decode(_:)`).
    public func decode<Record: Decodable>(_ type: Record.Type) throws -> [Record] {
        try map { try $0.decode(type) }
    }
}

/// A `Decoder` over one row: a keyed container of its columns, each a single value.
struct RowDecoder: Decoder {
    let row: PostgresRow
    var codingPath: [any CodingKey] = []
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The column a key names: its string value in snake case.
    static func column(for key: any CodingKey) -> String {
        column(named: key.stringValue)
    }

    /// `customerID` → `customer_id`, `openAmount` → `open_amount`; a name with an underscore or no capital is
    /// already a column. By bytes, in one pass (Swift identifiers here are ASCII): with Foundation imported,
    /// `contains("_")` and `lowercased()` went through CFString search, and a walk over `Character`s through
    /// Unicode tables, per column of every row decoded (a tenth of an `auth.whoami`).
    static func column(named name: String) -> String {
        var name = name
        return name.withUTF8 { bytes -> String? in
            guard !bytes.contains(UInt8(ascii: "_")), bytes.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else {
                return nil
            }
            var result: [UInt8] = []
            result.reserveCapacity(bytes.count + 4)
            var previousWasUpper = false
            for (index, byte) in bytes.enumerated() {
                if byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") {
                    if index > 0 && !previousWasUpper { result.append(UInt8(ascii: "_")) }
                    result.append(byte + 32)
                    previousWasUpper = true
                } else {
                    result.append(byte)
                    previousWasUpper = false
                }
            }
            return String(decoding: result, as: UTF8.self)
        } ?? name
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(Columns<Key>(row: row, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a row is not a list"))
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        throw DecodingError.typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "a row is not a single value"))
    }

    struct Columns<Key: CodingKey>: KeyedDecodingContainerProtocol {
        let row: PostgresRow
        let codingPath: [any CodingKey]
        var allKeys: [Key] { row.columns.names.compactMap { Key(stringValue: $0) } }

        func contains(_ key: Key) -> Bool { row.columns.index(of: RowDecoder.column(for: key)) != nil }

        func decodeNil(forKey key: Key) throws -> Bool {
            let name = RowDecoder.column(for: key)
            guard row.columns.index(of: name) != nil else { return true }
            return row.isNull(name)
        }

        // The common column types without the dynamic cast of the generic path.
        func decode(_ type: String.Type, forKey key: Key) throws -> String { try row.decode(type, column: RowDecoder.column(for: key)) }
        func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try row.decode(type, column: RowDecoder.column(for: key)) }
        func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try row.decode(type, column: RowDecoder.column(for: key)) }
        func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try row.decode(type, column: RowDecoder.column(for: key)) }

        /// One name conversion and one lookup (the default asks `contains`, `decodeNil` and `decode` in turn).
        func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
            let name = RowDecoder.column(for: key)
            guard let index = row.columns.index(of: name), !row.isNull(at: index) else { return nil }
            return try decode(type, column: name, key: key)
        }

        func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
            try decode(type, column: RowDecoder.column(for: key), key: key)
        }

        private func decode<T: Decodable>(_ type: T.Type, column name: String, key: Key) throws -> T {
            if let decodable = T.self as? any PostgresDecodable.Type {
                return try Self.open(decodable, row: row, column: name) as! T
            }
            return try T(from: Cell(row: row, column: name, codingPath: codingPath + [key]))
        }

        static func open<V: PostgresDecodable>(_ type: V.Type, row: PostgresRow, column: String) throws -> V {
            try row.decode(V.self, column: column)
        }

        func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch(type, .init(codingPath: codingPath + [key], debugDescription: "a column is not a record"))
        }

        func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath + [key], debugDescription: "a column is not a list"))
        }

        func superDecoder() throws -> any Decoder { RowDecoder(row: row, codingPath: codingPath) }
        func superDecoder(forKey key: Key) throws -> any Decoder { RowDecoder(row: row, codingPath: codingPath + [key]) }
    }

    /// One column as a single value: what a `RawRepresentable` enum (or any type decoding from
    /// one primitive) reads.
    struct Cell: Decoder, SingleValueDecodingContainer {
        let row: PostgresRow
        let column: String
        let codingPath: [any CodingKey]
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
            throw DecodingError.typeMismatch(type, .init(codingPath: codingPath, debugDescription: "a column is not a record"))
        }
        func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([Any].self, .init(codingPath: codingPath, debugDescription: "a column is not a list"))
        }
        func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

        func decodeNil() -> Bool { row.isNull(column) }
        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            if let decodable = T.self as? any PostgresDecodable.Type {
                return try Columns<PlainKey>.open(decodable, row: row, column: column) as! T
            }
            return try T(from: self)
        }
    }

    struct PlainKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
