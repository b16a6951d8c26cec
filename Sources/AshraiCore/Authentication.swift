import Foundation

/// What a password must be: long enough, not absurdly long, anything else allowed
/// (NIST SP 800-63B: length, no composition rules). Compared after NFC normalisation so the
/// same password typed on two keyboards matches.
public enum PasswordPolicy {
    /// Fewest characters.
    public static let minimumLength = 12
    /// Most characters.
    public static let maximumLength = 256

    /// Why a password is refused, or nil.
    public static func problem(with password: String) -> String? {
        let count = normalized(password).count
        if count < minimumLength { return "password must be at least \(minimumLength) characters" }
        if count > maximumLength { return "password must be at most \(maximumLength) characters" }
        if password.unicodeScalars.contains(where: { $0.value == 0 }) { return "password must not contain NUL" }
        return nil
    }

    /// A one-time password for a login an admin creates or resets: 20 characters from an
    /// alphabet without look-alikes (≈ 115 bits), drawn from the system CSPRNG (getrandom).
    public static func generate() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<20).map { _ in alphabet.randomElement(using: &generator)! })
    }

    /// The form that is hashed.
    public static func normalized(_ password: String) -> String {
        password.precomposedStringWithCanonicalMapping
    }
}

/// The login-failure rules: lock an account name after repeated failures, for a growing time.
public struct LoginThrottle: Sendable, Equatable {
    /// Failures within `window` that lock the name.
    public var maxFailures = 10
    /// The counting window.
    public var window: Duration = .seconds(15 * 60)
    /// The first lock's length; each further lock doubles it.
    public var firstLock: Duration = .seconds(15 * 60)
    /// The longest lock.
    public var longestLock: Duration = .seconds(24 * 3600)
    /// Failures from one address within `window` before it is throttled (429).
    public var maxFailuresPerAddress = 50

    /// The defaults.
    public init() {}

    /// Whether this many failures in the window lock the name.
    public func locks(failuresInWindow: Int) -> Bool { failuresInWindow >= maxFailures }

    /// How long the `lockNumber`-th lock (1-based) lasts: doubling, capped.
    public func lockDuration(lockNumber: Int) -> Duration {
        let doublings = max(0, min(lockNumber - 1, 30))
        let seconds = firstLock.components.seconds << doublings
        return seconds >= longestLock.components.seconds ? longestLock : .seconds(seconds)
    }

    /// Whether an address has failed too often.
    public func throttles(addressFailuresInWindow: Int) -> Bool { addressFailuresInWindow >= maxFailuresPerAddress }
}

/// A username compared case-insensitively after NFC normalisation.
public enum Username {
    /// Why a new username is refused, or nil: 1–64 characters, no control characters or spaces at the ends.
    public static func problem(with username: String) -> String? {
        if username.isEmpty || username.count > 64 { return "username must be 1–64 characters" }
        if username.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "username must not contain control characters"
        }
        if username.first?.isWhitespace == true || username.last?.isWhitespace == true {
            return "username must not start or end with a space"
        }
        return nil
    }

    /// The key used for lookups and failure counting.
    public static func key(_ username: String) -> String {
        username.precomposedStringWithCanonicalMapping.lowercased()
    }
}
