import Foundation
import Testing

@testable import Bench

@Suite struct BlockingWorkTests {
    /// Blocking work (journal commits, certificates) runs on a thread of its own that the
    /// kernel knows by name, so a profile tells a certificate being rendered apart from the
    /// concurrency pool, and not on the pool itself.
    @Test func blockingWorkRunsOnAThreadNamedForTheKernel() async {
        let comm = await BlockingWork.run("ardoise-test-bw") {
            ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(comm == "ardoise-test-bw")
    }
}
