/// A PostgreSQL type OID, as `PQftype` reports it and `PQexecParams` takes it.
public struct PostgresDataType: Hashable, Sendable, CustomStringConvertible {
    /// The OID.
    public let oid: UInt32
    /// Wraps an OID.
    public init(_ oid: UInt32) { self.oid = oid }

    /// Lets the server infer the type from context.
    public static let unspecified = PostgresDataType(0)
    /// `bool`
    public static let bool = PostgresDataType(16)
    /// `bytea`
    public static let bytea = PostgresDataType(17)
    /// `int8`
    public static let int8 = PostgresDataType(20)
    /// `int2`
    public static let int2 = PostgresDataType(21)
    /// `int4`
    public static let int4 = PostgresDataType(23)
    /// `text`
    public static let text = PostgresDataType(25)
    /// `json`
    public static let json = PostgresDataType(114)
    /// `varchar`
    public static let varchar = PostgresDataType(1043)
    /// `date`
    public static let date = PostgresDataType(1082)
    /// `timestamp`
    public static let timestamp = PostgresDataType(1114)
    /// `timestamptz`
    public static let timestamptz = PostgresDataType(1184)
    /// `numeric`
    public static let numeric = PostgresDataType(1700)
    /// `uuid`
    public static let uuid = PostgresDataType(2950)
    /// `jsonb`
    public static let jsonb = PostgresDataType(3802)

    /// The OID in decimal.
    public var description: String { "oid \(oid)" }
}
