import AshraiCore
import CSodium
import Foundation
import ServiceLifecycle
import NIOPosix

/// Password hashing (argon2id), token generation and token hashing, all through libsodium.
///
/// Hashing is deliberately slow and memory-hungry, so it runs on its own small thread pool:
/// never on an event loop or the cooperative pool, and at most `threads` hashes at once
/// (each takes `memoryLimit` bytes).
public final class Secrets: Sendable {
    /// argon2id cost.
    public struct Cost: Sendable, Equatable {
        /// Passes (t).
        public var operations: Int
        /// Memory in bytes (m).
        public var memoryBytes: Int

        /// libsodium's INTERACTIVE limits: t = 2, m = 64 MiB.
        public static let interactive = Cost(operations: Int(crypto_pwhash_OPSLIMIT_INTERACTIVE),
                                             memoryBytes: Int(crypto_pwhash_MEMLIMIT_INTERACTIVE))
        /// The floor this server accepts (OWASP's argon2id minimum): t = 2, m = 19 MiB.
        public static let minimum = Cost(operations: 2, memoryBytes: 19 * 1024 * 1024)
    }

    private let cost: Cost
    private let pool: NIOThreadPool
    /// A hash of a random password, verified against when a username does not exist so that
    /// an unknown user costs the same time as a wrong password.
    private let dummyHash: String

    /// Creates the hasher and its thread pool. The cost is raised to `Cost.minimum` if lower.
    public init(cost: Cost = .interactive, threads: Int = 2) {
        precondition(sodium_init() >= 0, "libsodium failed to initialise")
        self.cost = Cost(operations: max(cost.operations, Cost.minimum.operations),
                         memoryBytes: max(cost.memoryBytes, Cost.minimum.memoryBytes))
        self.pool = NIOThreadPool(numberOfThreads: threads)
        self.pool.start()
        self.dummyHash = Secrets.hashBlocking(Secrets.token(), cost: self.cost) ?? ""
    }

    /// Stops the thread pool.
    public func shutdown() async { try? await pool.shutdownGracefully() }

    /// The PHC string (`$argon2id$v=19$m=…,t=…,p=1$…`) of a password, NFC-normalised first.
    public func hash(password: String) async throws -> String {
        let cost = self.cost
        let normalized = PasswordPolicy.normalized(password)
        guard let hash = try await pool.runIfActive({ Secrets.hashBlocking(normalized, cost: cost) }) else {
            throw SecretsError.hashingFailed
        }
        return hash
    }

    /// Whether `password` matches `hash`; with `hash` nil, verifies against the dummy so the
    /// caller spends the same time either way, and returns false.
    public func verify(password: String, hash: String?) async throws -> Bool {
        let stored = hash ?? dummyHash
        let normalized = PasswordPolicy.normalized(password)
        let matches = try await pool.runIfActive {
            crypto_pwhash_str_verify(stored, normalized, UInt64(normalized.utf8.count)) == 0
        }
        return hash != nil && matches
    }

    static func hashBlocking(_ password: String, cost: Cost) -> String? {
        var output = [CChar](repeating: 0, count: Int(crypto_pwhash_STRBYTES))
        let status = crypto_pwhash_str(&output, password, UInt64(password.utf8.count),
                                       UInt64(cost.operations), Int(cost.memoryBytes))
        guard status == 0 else { return nil }
        let bytes = output.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// 256 random bits from libsodium's CSPRNG, base64url without padding (43 characters).
    public static func token() -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        randombytes_buf(&bytes, bytes.count)
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// SHA-256 of a token's UTF-8 bytes: what the sessions table stores.
    /// SHA-256 of bytes, lower-case hex (what an attachment is recorded by).
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return hex(digest)
    }

    /// Lower-case hex of bytes (a table, not `String(format:)`: a bank import hashes 100,000 lines).
    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    public static func tokenHash(_ token: String) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(crypto_hash_sha256_BYTES))
        let bytes = Array(token.utf8)
        crypto_hash_sha256(&digest, bytes, UInt64(bytes.count))
        return digest
    }

}

/// A libsodium failure (out of memory for the hash).
public enum SecretsError: Error {
    /// `crypto_pwhash_str` failed.
    case hashingFailed
}

/// The hasher's threads run until graceful shutdown, in the daemon's `ServiceGroup`.
extension Secrets: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
