import Foundation

/// What a password must be: long enough, not absurdly long, anything else allowed
/// (NIST SP 800-63B: length, no composition rules). Compared after NFC normalisation so the
/// same password typed on two keyboards matches.
public enum PasswordPolicy {
    /// Fewest characters.
    public static let minimumLength = 12
    /// Most characters.
    public static let maximumLength = 256

    /// Why a password is refused, or nil. Besides its length (NIST SP 800-63B), a password may
    /// not be one everybody tries: a known common password, alone or with digits and symbols
    /// around it (`Password1234!`); a run of one, two or three characters; a sequence of the
    /// alphabet, the digits or a keyboard row; or built on the username or the product's name.
    public static func problem(with password: String, username: String? = nil, common: Set<String> = []) -> String? {
        guard password.unicodeScalars.count <= maximumLength * 4 else { return "password must be at most \(maximumLength) characters" }
        let count = normalized(password).count
        if count < minimumLength { return "password must be at least \(minimumLength) characters" }
        if count > maximumLength { return "password must be at most \(maximumLength) characters" }
        if password.unicodeScalars.contains(where: { $0.value == 0 }) { return "password must not contain NUL" }
        let lowered = normalized(password).lowercased()
        if Set(lowered).count <= 3 { return "password must not be one, two or three characters repeated" }
        if isSequence(lowered) { return "password must not be a run of the alphabet, the digits or a keyboard row" }
        let core = String(lowered.drop { !$0.isLetter }.reversed().drop { !$0.isLetter }.reversed())
        if common.contains(lowered) || (!core.isEmpty && common.contains(core)) {
            return "password is one of the most common passwords; choose another (a few unrelated words work well)"
        }
        var context = ["ashrai", "אשראי"]
        if let username, username.count >= 4 { context.append(Username.key(username)) }
        if let word = context.first(where: { lowered.contains($0) }) {
            return word == "ashrai" || word == "אשראי" ? "password must not contain the product's name" : "password must not contain the username"
        }
        return nil
    }

    /// Whether `text` is a stretch of one of the sequences people type (either direction).
    static func isSequence(_ text: String) -> Bool {
        let sequences = ["abcdefghijklmnopqrstuvwxyz", "0123456789", "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p"]
        return sequences.contains { sequence in
            let doubled = sequence + sequence
            return doubled.contains(text) || String(doubled.reversed()).contains(text)
        }
    }

    /// A list of common passwords, one per line (`#!` lines are comments), lower-cased.
    public static func commonPasswords(fromFile path: String) -> Set<String>? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        var set = Set<String>()
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) where !line.hasPrefix("#!") {
            let word = line.trimmingCharacters(in: .whitespaces).lowercased()
            if !word.isEmpty { set.insert(word) }
        }
        return set
    }

    /// Openwall's list of the passwords most often seen (Debian `john-data`), where installed.
    public static let systemCommonPasswordsFile = "/usr/share/john/password.lst"

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
    /// Why a new username is refused, or nil: 1–64 of the letters a–z and A–Z, digits and
    /// `. _ - @`, starting with a letter or digit. Nothing else: no look-alikes from other
    /// scripts (Cyrillic `а` for `a`), no invisible or bidi characters (`ad\u{200B}min`,
    /// `admin\u{202E}txt`) that would make a name look like another in lists and the audit log.
    /// People's names in any script go in the display name.
    public static func problem(with username: String) -> String? {
        let scalars = username.unicodeScalars
        if scalars.isEmpty || scalars.count > 64 { return "username must be 1–64 characters" }
        let allowed: (Unicode.Scalar) -> Bool = { s in
            ("a"..."z").contains(s) || ("A"..."Z").contains(s) || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-" || s == "@"
        }
        guard scalars.allSatisfy(allowed) else {
            return "username may hold only the letters a–z, digits and . _ - @ (a person's name in any script goes in display_name)"
        }
        guard let first = scalars.first, ("a"..."z").contains(first) || ("A"..."Z").contains(first) || ("0"..."9").contains(first) else {
            return "username must start with a letter or a digit"
        }
        return nil
    }

    /// The key used for lookups and failure counting.
    public static func key(_ username: String) -> String {
        username.precomposedStringWithCanonicalMapping.lowercased()
    }
}
