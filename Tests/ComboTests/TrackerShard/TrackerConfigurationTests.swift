import Testing
@testable import Combo

@Suite("Tracker configuration")
struct TrackerConfigurationTests {
    @Test("defaults are upstream's")
    func defaults() throws {
        let configuration = Tracker.Configuration(name: "presence")
        try configuration.validate()
        #expect(configuration.poolSize == 1)
        #expect(configuration.broadcastPeriod == .milliseconds(1500))
        #expect(configuration.maxSilentPeriods == 10)
        #expect(configuration.effectiveDownPeriod == .seconds(30))
        #expect(configuration.permdownPeriod == .seconds(1200))
        #expect(configuration.clockSamplePeriods == 2)
        #expect(configuration.maxDeltaSizes == [100, 1000, 10_000])
        #expect(configuration.permdownOnShutdown == true)
    }

    @Test("each rule refuses what upstream refuses, with a clear error")
    func validation() {
        func error(_ change: (inout Tracker.Configuration) -> Void) -> TrackerConfigurationError? {
            var configuration = Tracker.Configuration(name: "presence")
            change(&configuration)
            do {
                try configuration.validate()
                return nil
            } catch {
                return error
            }
        }
        #expect(error { $0.name = "" } == .invalidName(""))
        #expect(error { $0.name = "a\u{7}b" } == .invalidName("a\u{7}b"))
        #expect(error { $0.poolSize = 0 } == .invalidPoolSize(0))
        #expect(error { $0.broadcastPeriod = .zero } == .invalidBroadcastPeriod(.zero))
        #expect(error { $0.maxSilentPeriods = 0 } == .invalidMaxSilentPeriods(0))
        #expect(error { $0.downPeriod = .seconds(2) } == .downPeriodTooShort(downPeriod: .seconds(2), broadcastPeriod: .milliseconds(1500)))
        #expect(error { $0.downPeriod = .seconds(3) } == nil, "exactly twice the broadcast period is allowed")
        #expect(error { $0.permdownPeriod = .seconds(30) } == .permdownPeriodTooShort(permdownPeriod: .seconds(30), downPeriod: .seconds(30)))
        #expect(error { $0.clockSamplePeriods = 0 } == .invalidClockSamplePeriods(0))
        #expect(error { $0.maxDeltaSizes = [] } == .invalidMaxDeltaSizes([]))
        #expect(error { $0.maxDeltaSizes = [100, 100] } == .invalidMaxDeltaSizes([100, 100]))
        #expect(error { $0.maxDeltaSizes = [0] } == .invalidMaxDeltaSizes([0]))
        #expect(error { $0.eventBufferLimit = 0 } == .invalidEventBufferLimit(0))
        #expect("\(TrackerConfigurationError.downPeriodTooShort(downPeriod: .seconds(2), broadcastPeriod: .seconds(3)))".contains("at least twice"))
    }

    @Test("a tracker refuses a bad configuration at init")
    func initRefuses() throws {
        let pubsub = try PubSub(configuration: .init(name: "test"))
        #expect(throws: TrackerConfigurationError.invalidPoolSize(0)) {
            try Tracker(configuration: .init(name: "presence", poolSize: 0), pubsub: pubsub)
        }
    }
}
