import AshraiCore
import Testing

@Suite("authentication rules")
struct AuthenticationTests {
    @Test("passwords: at least 12 characters of anything, at most 256, no composition rules (but no runs of one character)")
    func passwordPolicy() {
        #expect(PasswordPolicy.problem(with: "short") != nil)
        #expect(PasswordPolicy.problem(with: "elevenchars") != nil)
        #expect(PasswordPolicy.problem(with: "twelve chars") == nil)
        #expect(PasswordPolicy.problem(with: "סיסמה ארוכה מאוד") == nil)
        #expect(PasswordPolicy.problem(with: "🔑🗝🔐🔒 and a door") == nil)
        #expect(PasswordPolicy.problem(with: "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑") != nil)   // one character repeated
        #expect(PasswordPolicy.problem(with: String((0..<128).map { Character(UnicodeScalar(UInt8(97 + $0 % 26))) }).shuffled().map(String.init).joined()) == nil)
        #expect(PasswordPolicy.problem(with: String(repeating: "a", count: 257)) != nil)
    }

    @Test("the same password in composed and decomposed form normalises to one")
    func normalisation() {
        #expect(PasswordPolicy.normalized("caf\u{E9} au lait!!") == PasswordPolicy.normalized("cafe\u{301} au lait!!"))
    }

    @Test("ten failures lock; each further lock doubles, capped at a day")
    func throttle() {
        let rules = LoginThrottle()
        #expect(!rules.locks(failuresInWindow: 9))
        #expect(rules.locks(failuresInWindow: 10))
        #expect(rules.lockDuration(lockNumber: 1) == .seconds(900))
        #expect(rules.lockDuration(lockNumber: 2) == .seconds(1800))
        #expect(rules.lockDuration(lockNumber: 3) == .seconds(3600))
        #expect(rules.lockDuration(lockNumber: 10) == .seconds(86400))
        #expect(rules.lockDuration(lockNumber: 1000) == .seconds(86400))
    }

    @Test("usernames compare case-insensitively and refuse control characters (and, since the hardening, any other script)")
    func usernames() {
        #expect(Username.key("Dana") == Username.key("dANA"))
        #expect(Username.problem(with: "דנה") != nil)   // a person's name in Hebrew goes in display_name
        #expect(Username.problem(with: "") != nil)
        #expect(Username.problem(with: "a\u{7}b") != nil)
        #expect(Username.problem(with: " dana") != nil)
    }
}
