@testable import ComboCLI

/// Awaits a condition with a deadline: polls `condition` every 20 ms until it
/// holds, or fails after `timeout`. The one way this target's tests wait for
/// something that has no event of its own.
func eventually(
    _ description: String, timeout: Duration = .seconds(20), _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    throw DemoError("\(description) did not happen within \(timeout)")
}
