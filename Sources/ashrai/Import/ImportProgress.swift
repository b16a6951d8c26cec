import AshraiClient
import AshraiProtocol
import ArgumentParser
import Foundation
import Glibc

#if canImport(Glibc)

#endif

/// Hands out batch numbers to the import's workers and draws the progress bar on a terminal.
actor ImportProgress {
    let total: Int
    let visible: Bool
    private var done = 0
    private var next = 0

    init(total: Int, visible: Bool) {
        self.total = total
        self.visible = visible
    }

    func nextBatch(of count: Int) -> Int? {
        guard next < count else { return nil }
        defer { next += 1 }
        return next
    }

    func advance(by rows: Int) {
        done += rows
        guard visible else { return }
        let width = 30
        let filled = total == 0 ? width : width * done / total
        FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: " ", count: width - filled))] \(done)/\(total)".utf8))
    }

    func finish() {
        if visible { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
