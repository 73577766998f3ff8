import AdapterZMQ
import Logging

/// A ``ZMQProxy`` running in the test process, stopped by ``stop()``.
final class RunningProxy: Sendable {
    let proxy: ZMQProxy
    let xsub: String
    let xpub: String
    private let task: Task<Void, any Error>

    private init(proxy: ZMQProxy, xsub: String, xpub: String, task: Task<Void, any Error>) {
        self.proxy = proxy
        self.xsub = xsub
        self.xpub = xpub
        self.task = task
    }

    /// Starts a proxy and waits until it is bound.
    static func start(
        xsub: String = "tcp://127.0.0.1:*",
        xpub: String = "tcp://127.0.0.1:*",
        configure: (inout ZMQProxyConfiguration) -> Void = { _ in }
    ) async throws -> RunningProxy {
        var configuration = ZMQProxyConfiguration(xsub: xsub, xpub: xpub)
        configure(&configuration)
        let proxy = try ZMQProxy(configuration: configuration, logger: Logger(label: "test.proxy") { _ in SwiftLogNoOpLogHandler() })
        let task = Task { try await proxy.run() }
        guard let endpoints = await proxy.waitUntilBound() else {
            let outcome = await task.result
            throw TestFailure("the proxy did not bind: \(outcome)")
        }
        return RunningProxy(proxy: proxy, xsub: endpoints.xsub, xpub: endpoints.xpub, task: task)
    }

    /// Stops the proxy and waits for it to end.
    func stop() async {
        task.cancel()
        _ = await task.result
    }
}
