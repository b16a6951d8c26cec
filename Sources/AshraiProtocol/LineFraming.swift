/// Splitting a byte stream into request lines with a length bound — the one rule the
/// server's `BoundedLineDecoder` applies to its buffer (kept free of NIO so it can be fuzzed).
public enum LineFraming {
    /// What the next line of a buffer is.
    public enum Next: Equatable, Sendable {
        /// A line of `length` bytes (not counting its `\n`, which follows it).
        case line(length: Int)
        /// No `\n` yet; `scanned` bytes have been looked at (start there next time).
        case needMore(scanned: Int)
        /// The line (finished or not) is longer than the limit: the connection must close.
        case tooLong
    }

    /// The next line in `bytes`, having already scanned `scanned` bytes without a newline. A
    /// line may be `limit` bytes plus a trailing `\r`.
    public static func next<Bytes: Collection>(in bytes: Bytes, scanned: Int, limit: Int) -> Next where Bytes.Element == UInt8, Bytes.Index == Int {
        let maximum = limit + 1
        let start = bytes.startIndex + min(scanned, bytes.count)
        if let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - bytes.startIndex
            return length <= maximum ? .line(length: length) : .tooLong
        }
        return bytes.count <= maximum ? .needMore(scanned: bytes.count) : .tooLong
    }
}
