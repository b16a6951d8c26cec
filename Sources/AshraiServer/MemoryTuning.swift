#if canImport(Glibc)
import Glibc
#endif

/// How the daemon asks glibc's allocator to give memory back (issue 18: memory that is not given back).
///
/// Measured with 50 clients that call `rpc.discover` (a 221 KiB reply) and never read: RSS rose from 47 MiB to
/// 280–300 MiB while they were connected — each connection holds at most `maxPendingOutputBytes` (4 MiB) of
/// replies, plus a constant — and all 50 were dropped at the write timeout. 30 s after they went, RSS stayed at
/// 177–195 MiB, round after round (a plateau, not a climb). `malloc_trim(0)` through gdb brought it to 48 MiB
/// at once: not a leak, but freed memory glibc kept. Its *dynamic* mmap threshold is why: once a large block
/// (a reply buffer) is freed, the threshold rises to that size, so later large buffers come from the arenas and
/// stay there, fragmented. A fixed threshold of 128 KiB (glibc's starting value, now never raised) keeps every
/// large buffer in its own mapping, returned to the system when freed: with it, RSS went back to 48–49 MiB after
/// each round, peaks unchanged.
public enum MemoryTuning {
    /// glibc's `M_MMAP_THRESHOLD` (malloc.h), not exported by Swift's Glibc module.
    static let mmapThresholdOption: Int32 = -3
    static let mmapThreshold: Int32 = 128 * 1024

    /// Fixes the mmap threshold; returns whether glibc took it (false elsewhere).
    @discardableResult
    public static func apply() -> Bool {
        #if canImport(Glibc)
        // `mallopt` is looked up rather than declared: the Glibc module does not export it, and a C function must be
        // called with the C calling convention.
        guard let symbol = dlsym(nil, "mallopt") else { return false }
        let mallopt = unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32) -> Int32).self)
        return mallopt(mmapThresholdOption, mmapThreshold) == 1
        #else
        return false
        #endif
    }
}
