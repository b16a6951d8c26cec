import ArgumentParser
import AshraiProtocol

/// `ashraid openrpc`: prints the OpenRPC document (`make openrpc` writes docs/openrpc.json).
struct OpenRPC: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "openrpc", abstract: "Print the OpenRPC document that rpc.discover returns.")

    @Flag(name: .long, help: "Print the README's role matrix (Markdown) instead.")
    var roleMatrix = false

    func run() {
        print(roleMatrix ? MethodCatalog.roleMatrixMarkdown : OpenRPCDocument.make().prettyEncoded(), terminator: "")
    }
}
