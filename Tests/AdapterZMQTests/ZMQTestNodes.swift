import AdapterZMQ

/// Settings the tests' nodes share: quick reconnection, so restarts are seen fast.
enum ZMQTestNodes {
    static func configure(_ configuration: ZMQ) -> ZMQ {
        var configuration = configuration
        configuration.reconnectInterval = .milliseconds(20)
        configuration.reconnectIntervalMax = .milliseconds(200)
        return configuration
    }
}
