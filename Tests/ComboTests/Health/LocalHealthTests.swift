import Testing
@testable import Combo

@Suite("Local health before blame")
struct LocalHealthTests {
    let start = ContinuousClock.now

    /// A monitor driven by hand: ticks at the given offsets from `start`.
    func monitor(ticks offsets: [Duration]) -> LocalHealth {
        let health = LocalHealth(period: .milliseconds(100), pauseThreshold: .seconds(1), window: 10)
        for offset in offsets { health.recordTick(at: start + offset) }
        return health
    }

    func onTime(_ count: Int, from first: Duration = .zero) -> [Duration] {
        (0..<count).map { first + .milliseconds(100) * $0 }
    }

    @Test("a monitor that never ran judges by silence alone")
    func notRunning() {
        let health = LocalHealth()
        #expect(health.mayDeclareDown(silence: .milliseconds(2001), timeout: .seconds(2), at: start))
        #expect(!health.mayDeclareDown(silence: .seconds(2), timeout: .seconds(2), at: start))
        #expect(health.reading(at: start) == .healthy)
    }

    @Test("ticks on time: a peer silent past the timeout may be declared down")
    func healthy() {
        let health = monitor(ticks: onTime(30))
        let now = start + .milliseconds(2900)
        #expect(health.reading(at: now).lateness == .zero)
        #expect(health.mayDeclareDown(silence: .milliseconds(2001), timeout: .seconds(2), at: now))
        #expect(!health.mayDeclareDown(silence: .milliseconds(1999), timeout: .seconds(2), at: now))
    }

    @Test("late ticks extend the timeout by the recent lateness")
    func lateTicksExtendTheTimeout() {
        // Ticks every 400 ms instead of 100 ms: 300 ms late each.
        let health = monitor(ticks: (0..<10).map { .milliseconds(400) * $0 })
        let now = start + .milliseconds(3600)
        let reading = health.reading(at: now)
        #expect(reading.lateness == .milliseconds(300))
        #expect(reading.pauses == 0)
        #expect(!health.mayDeclareDown(silence: .milliseconds(2200), timeout: .seconds(2), at: now))
        #expect(health.mayDeclareDown(silence: .milliseconds(2301), timeout: .seconds(2), at: now))
    }

    @Test("lateness is forgotten once the window holds only punctual ticks")
    func latenessIsRecent() {
        var offsets: [Duration] = [.zero, .milliseconds(900)]  // one tick 800 ms late
        offsets += onTime(10, from: .milliseconds(1000))
        let health = monitor(ticks: offsets)
        let now = start + .milliseconds(1900)
        #expect(health.reading(at: now).lateness == .zero)
        #expect(health.mayDeclareDown(silence: .milliseconds(2001), timeout: .seconds(2), at: now))
    }

    @Test("after a pause no peer is declared down for one timeout, however long its silence")
    func pause() {
        // On time, then nothing for 10 s (SIGSTOP), then on time again.
        let health = monitor(ticks: onTime(10) + onTime(5, from: .milliseconds(10_900)))
        let woke = start + .milliseconds(10_900)
        #expect(health.reading(at: woke + .milliseconds(400)).pauses == 1)
        #expect(health.reading(at: woke + .milliseconds(400)).lastPause == woke)
        #expect(!health.mayDeclareDown(silence: .seconds(11), timeout: .seconds(2), at: woke + .milliseconds(400)))
        #expect(!health.mayDeclareDown(silence: .seconds(12), timeout: .seconds(2), at: woke + .milliseconds(1900)))
        // One timeout after waking, with punctual ticks since, silence alone decides again.
        for step in 1...20 { health.recordTick(at: woke + .milliseconds(400) + .milliseconds(100) * step) }
        let later = woke + .milliseconds(2400)
        #expect(health.reading(at: later).lateness == .zero)
        #expect(health.mayDeclareDown(silence: .seconds(3), timeout: .seconds(2), at: later))
    }

    @Test("waking before the monitor has ticked: the overdue tick itself reveals the pause")
    func wakingBeforeTheMonitor() {
        let health = monitor(ticks: onTime(10))
        // The last tick was at 900 ms; asked at 6 s, before any new tick.
        let now = start + .seconds(6)
        let reading = health.reading(at: now)
        #expect(reading.lastPause == now)
        #expect(reading.lateness == .milliseconds(5000))
        #expect(!health.mayDeclareDown(silence: .seconds(6), timeout: .seconds(2), at: now))
    }

    @Test("the shared monitor runs: its reading follows real time")
    func sharedMonitorTicks() async throws {
        let health = LocalHealth(period: .milliseconds(10), pauseThreshold: .seconds(30), window: 5)
        health.start()
        health.start()
        let deadline = ContinuousClock.now + .seconds(30)
        // Ticks keep the overdue lateness small: wait until the monitor has run a while.
        var reading = health.reading()
        while ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            reading = health.reading()
            if reading.lateness < .seconds(1) { break }
        }
        #expect(reading.lateness < .seconds(1))
        #expect(reading.pauses == 0)
    }
}
