import Foundation

/// The loop every `pread`/`pwrite` caller needs: short transfers continue, EINTR retries.
///
/// Shared by the block-device handle (DeviceKit) and the regular-file target (WipeEngine),
/// which each turn the outcome into their own error.
public enum PositionedIO {
    public enum Outcome: Equatable, Sendable {
        case complete
        /// The call failed with `errno` after `done` bytes.
        case failed(errno: Int32, done: Int)
        /// The call returned 0 (end of file, device gone) after `done` bytes.
        case ended(done: Int)
    }

    /// Calls `transfer(done)` — which moves bytes starting `done` bytes into the request and
    /// returns what `pread`/`pwrite` returned — until `count` bytes moved. Blocks.
    public static func transferFully(count: Int, _ transfer: (_ done: Int) -> Int) -> Outcome {
        var done = 0
        while done < count {
            let result = transfer(done)
            if result < 0 {
                if errno == EINTR { continue }
                return .failed(errno: errno, done: done)
            }
            if result == 0 { return .ended(done: done) }
            done += result
        }
        return .complete
    }
}
