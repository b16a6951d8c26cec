import Foundation
import NIOPosix

/// A letter's HTML as a PDF, by WeasyPrint (Debian `weasyprint`, which shapes Hebrew right to left),
/// run as a child process with a timeout. Blocking: call it from a thread of its own.
enum LetterPDF {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The `weasyprint` executable on PATH, if any.
    static let executable: String? = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/weasyprint" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    /// The threads WeasyPrint runs are waited for on: never the event loops or the cooperative pool.
    static let threads: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        return pool
    }()

    /// Renders `html` on `threads`; the bytes are checked to be a PDF with at least one page.
    static func render(html: String, timeoutSeconds: Int = 60) async throws -> [UInt8] {
        try await threads.runIfActive { try renderBlocking(html: html, timeoutSeconds: timeoutSeconds) }
    }

    static func renderBlocking(html: String, timeoutSeconds: Int) throws -> [UInt8] {
        guard let executable else { throw Failure(description: "weasyprint is not installed") }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ashrai-pdf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("letter.html"), output = directory.appendingPathComponent("letter.pdf")
        try Data(html.utf8).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["--quiet", "--encoding", "utf-8", input.path, output.path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(Double(timeoutSeconds))
        while process.isRunning {
            if Date() > deadline {
                process.terminate()
                throw Failure(description: "weasyprint took longer than \(timeoutSeconds) s")
            }
            usleep(20_000)
        }
        guard process.terminationStatus == 0, let data = FileManager.default.contents(atPath: output.path) else {
            throw Failure(description: "weasyprint failed (exit \(process.terminationStatus))")
        }
        let bytes = [UInt8](data)
        guard isPDF(bytes) else { throw Failure(description: "weasyprint's output is not a PDF with pages") }
        return bytes
    }

    /// Starts `%PDF-` and has at least one page object.
    static func isPDF(_ bytes: [UInt8]) -> Bool {
        guard bytes.starts(with: Array("%PDF-".utf8)) else { return false }
        let text = String(decoding: bytes, as: UTF8.self)
        return text.contains("/Type /Page") || text.contains("/Type/Page")
    }
}
