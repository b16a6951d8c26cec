@testable import AshraiServer
import Foundation
import Testing

@Suite("formats computed by hand")
struct FormatTests {
    @Test("rfc3339 writes what ISO8601DateFormatter writes: UTC, whole seconds, before 1970 too")
    func rfc3339AgreesWithFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        var generator = SystemRandomNumberGenerator()
        let fixed: [TimeInterval] = [0, -1, -0.5, 86_399.999, 86_400, 951_782_400 /* 2000-02-29 */, 1_795_000_000.25, -2_208_988_800]
        for seconds in fixed + (0..<500).map({ _ in TimeInterval(Int64.random(in: -3_000_000_000...4_000_000_000, using: &generator)) / 7 }) {
            let date = Date(timeIntervalSince1970: seconds)
            #expect(rfc3339(date) == formatter.string(from: date), "\(seconds)")
        }
    }

    @Test("hex is lower-case, two digits a byte")
    func hex() {
        #expect(Secrets.hex([0, 1, 0x0f, 0x10, 0xab, 0xff]) == "00010f10abff")
        #expect(Secrets.hex([]) == "")
    }
}
