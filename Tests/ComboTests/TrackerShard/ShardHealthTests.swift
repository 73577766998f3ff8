import Testing
@testable import Combo

@Suite("Tracker down detection and local health")
struct ShardHealthTests {
    /// Replicas a and b that have heard each other; b's down detection consults `health`.
    func pair(health: LocalHealth) -> (ShardNetwork, a: NodeIdentity, b: NodeIdentity) {
        var network = ShardNetwork()
        let a = network.add(ShardNetwork.identity("a"))
        let b = network.add(ShardNetwork.identity("b"), health: health)
        network.tickAll()
        network.deliverAll()
        return (network, a, b)
    }

    /// Records the monitor's ticks, one per 100 ms, from `from` to `to` (relative to the network's start).
    func tick(_ health: LocalHealth, _ network: ShardNetwork, from: Duration, to: Duration) {
        var offset = from
        while offset <= to {
            health.recordTick(at: network.start + offset)
            offset += .milliseconds(100)
        }
    }

    func downs(_ network: ShardNetwork, _ name: NodeName) -> [ReplicaEvent] {
        (network.events[name] ?? []).filter { if case .down = $0 { true } else { false } }
    }

    @Test("a healthy replica marks a silent peer down after the down period")
    func healthyMarksDown() {
        let health = LocalHealth(period: .milliseconds(100), pauseThreshold: .milliseconds(500))
        var (network, a, b) = pair(health: health)
        network.outbox.removeAll()
        network.advance(.milliseconds(1500))
        tick(health, network, from: .zero, to: network.elapsed)
        network.tick("b")
        #expect(downs(network, b.name) == [.down(a)])
    }

    @Test("a replica waking from a pause gives its peers one down period to be heard before marking them down")
    func pausedReplicaWaits() {
        let health = LocalHealth(period: .milliseconds(100), pauseThreshold: .milliseconds(500))
        var (network, a, b) = pair(health: health)
        tick(health, network, from: .zero, to: .zero)
        // b is stopped for 5 s: its monitor does not tick, nor does its shard.
        network.advance(.seconds(5))
        network.outbox.removeAll()
        // b wakes: its shard ticks before the monitor does.
        let deferred = network.cores[b.name]!.tick(now: network.now)
        #expect(deferred.replicaEvents.isEmpty)
        #expect(deferred.downsDeferred == 1)
        // The monitor wakes too; a is still silent half a down period later: still no down.
        tick(health, network, from: network.elapsed, to: network.elapsed + .milliseconds(500))
        network.advance(.milliseconds(500))
        network.tick("b")
        #expect(downs(network, b.name).isEmpty)
        // a speaks again: never marked down on b.
        network.outbox.removeAll()
        for _ in 0...network.configuration.maxSilentPeriods { network.tick("a") }
        network.deliverAll()
        tick(health, network, from: network.elapsed, to: network.elapsed + .milliseconds(1500))
        network.advance(.milliseconds(1500))
        network.tick("b")
        #expect(downs(network, b.name).isEmpty)
        #expect(network.cores[b.name]!.replicas.isUp(a))
    }

    @Test("after the pause's grace, a peer still silent is marked down")
    func pausedReplicaStillJudges() {
        let health = LocalHealth(period: .milliseconds(100), pauseThreshold: .milliseconds(500))
        var (network, a, b) = pair(health: health)
        tick(health, network, from: .zero, to: .zero)
        network.advance(.seconds(3))
        network.outbox.removeAll()
        network.tick("b")
        #expect(downs(network, b.name).isEmpty)
        // Punctual again for more than a down period (and the lateness window).
        tick(health, network, from: network.elapsed, to: network.elapsed + .milliseconds(5500))
        network.advance(.milliseconds(5500))
        network.tick("b")
        #expect(downs(network, b.name) == [.down(a)])
    }

    @Test("recent lateness extends the down period")
    func latenessExtendsTheDownPeriod() {
        let health = LocalHealth(period: .milliseconds(100), pauseThreshold: .seconds(2), window: 100)
        var (network, a, b) = pair(health: health)
        // Ticks 400 ms late each: the monitor's lateness is 400 ms.
        var offset = Duration.zero
        while offset <= .milliseconds(1200) {
            health.recordTick(at: network.start + offset)
            offset += .milliseconds(500)
        }
        network.outbox.removeAll()
        network.advance(.milliseconds(1000) + .milliseconds(350))
        health.recordTick(at: network.now)
        network.tick("b")
        #expect(downs(network, b.name).isEmpty, "1.35 s of silence is within 1 s plus 0.4 s of lateness")
        network.advance(.milliseconds(100))
        health.recordTick(at: network.now)
        network.tick("b")
        #expect(downs(network, b.name) == [.down(a)])
    }
}
