import AshraiProtocol
import Testing

@Suite("error code table")
struct ErrorCodeTests {
    @Test("the codes are those of the protocol contract")
    func codes() {
        #expect(RPCErrorCode.parseError.rawValue == -32700)
        #expect(RPCErrorCode.invalidRequest.rawValue == -32600)
        #expect(RPCErrorCode.methodNotFound.rawValue == -32601)
        #expect(RPCErrorCode.invalidParams.rawValue == -32602)
        #expect(RPCErrorCode.internalError.rawValue == -32603)
        #expect(RPCErrorCode.ruleViolated.rawValue == 422)
        #expect(RPCErrorCode.unavailable.reason == "unavailable")
    }

    @Test("every application code has its own reason; protocol faults have none")
    func reasons() {
        let application = RPCErrorCode.allCases.filter { $0.rawValue > 0 }
        let reasons = application.compactMap(\.reason)
        #expect(reasons.count == application.count)
        #expect(Set(reasons).count == reasons.count)
        #expect(RPCErrorCode.allCases.filter { $0.rawValue < 0 }.allSatisfy { $0.reason == nil })
    }
}
