import ComboChildProcess
import Foundation

/// Test hosts for the fault matrix: one network namespace per node, joined by
/// a bridge in a namespace of its own, with nftables rules to cut links and
/// drop packets. Linux only, as root; every namespace is removed by
/// ``tearDown()`` (deleting a namespace deletes its links and rules).
///
/// The hosts use 198.18.0.0/24, the range set aside for benchmarking
/// (RFC 2544), inside namespaces this test creates: no packet leaves the
/// machine.
final class FaultNetwork: Sendable {
    /// Why the fault matrix cannot run here, or `nil` when it can.
    static var unavailableReason: String? {
        guard getuid() == 0 else { return "the fault matrix needs root to create network namespaces" }
        for tool in ["/usr/sbin/ip", "/usr/sbin/nft"] where !FileManager.default.isExecutableFile(atPath: tool) {
            return "\(tool) is missing (iproute2 and nftables)"
        }
        return nil
    }

    /// Whether `COMBO_FAULTS=1` asks for the fault matrix (`make faults`).
    static var requested: Bool { ProcessInfo.processInfo.environment["COMBO_FAULTS"] == "1" }

    let hosts: [String]
    private let prefix: String
    private var bridge: String { "\(prefix)-sw" }

    /// Creates `count` hosts named `h1`, `h2`… at 198.18.0.1, .2…
    init(hosts count: Int) throws {
        prefix = "cf\(UInt32.random(in: 0 ... 0xFFFFF))"
        hosts = (1...count).map { "h\($0)" }
        do {
            try Self.run(["ip", "netns", "add", bridge])
            try Self.run(["ip", "-n", bridge, "link", "add", "br0", "type", "bridge"])
            try Self.run(["ip", "-n", bridge, "link", "set", "br0", "up"])
            for (index, host) in hosts.enumerated() {
                let namespace = self.namespace(host)
                try Self.run(["ip", "netns", "add", namespace])
                try Self.run(["ip", "-n", namespace, "link", "set", "lo", "up"])
                try Self.run([
                    "ip", "-n", namespace, "link", "add", "eth0", "type", "veth", "peer", "name", "p\(index)", "netns", bridge,
                ])
                try Self.run(["ip", "-n", bridge, "link", "set", "p\(index)", "master", "br0"])
                try Self.run(["ip", "-n", bridge, "link", "set", "p\(index)", "up"])
                try Self.run(["ip", "-n", namespace, "addr", "add", "\(address(host))/24", "dev", "eth0"])
                try Self.run(["ip", "-n", namespace, "link", "set", "eth0", "up"])
                try nft(host, "add table inet combo")
                try nft(host, "add chain inet combo input { type filter hook input priority 0; }")
                try nft(host, "add chain inet combo output { type filter hook output priority 0; }")
            }
        } catch {
            tearDown()
            throw error
        }
    }

    /// The namespace of a host.
    func namespace(_ host: String) -> String { "\(prefix)-\(host)" }

    /// A host's address.
    func address(_ host: String) -> String {
        "198.18.0.\(hosts.firstIndex(of: host)! + 1)"
    }

    /// What starts a program inside a host.
    func launcher(_ host: String) -> [String] { ["/usr/sbin/ip", "netns", "exec", namespace(host)] }

    /// Drops every packet between `host` and each of `others`, both ways, or
    /// only those `host` would receive from them (`oneWay`).
    func cut(_ host: String, from others: [String], oneWay: Bool = false) throws {
        for other in others {
            try nft(host, "add rule inet combo input ip saddr \(address(other)) drop")
            if !oneWay { try nft(host, "add rule inet combo output ip daddr \(address(other)) drop") }
        }
    }

    /// Drops `percent` of the packets every host receives, at random.
    func loss(percent: Int) throws {
        for host in hosts {
            try nft(host, "add rule inet combo input iifname eth0 numgen random mod 100 < \(percent) counter drop")
        }
    }

    /// How many packets the loss rules have dropped, over every host.
    func droppedPackets() throws -> Int {
        var total = 0
        for host in hosts {
            let listing = try Self.output(["ip", "netns", "exec", namespace(host), "nft", "list chain inet combo input"])
            for line in listing.split(separator: "\n") {
                let words = line.split(separator: " ")
                if let index = words.firstIndex(of: "packets"), index + 1 < words.count, let count = Int(words[index + 1]) {
                    total += count
                }
            }
        }
        return total
    }

    /// Removes every rule: the network is whole again.
    func heal() throws {
        for host in hosts {
            try nft(host, "flush chain inet combo input")
            try nft(host, "flush chain inet combo output")
        }
    }

    /// Removes the namespaces (and with them every link and rule).
    func tearDown() {
        for host in hosts { try? Self.run(["ip", "netns", "delete", namespace(host)]) }
        try? Self.run(["ip", "netns", "delete", bridge])
    }

    private func nft(_ host: String, _ rule: String) throws {
        try Self.run(["ip", "netns", "exec", namespace(host), "nft", rule])
    }

    private static func output(_ command: [String]) throws -> String {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/\(command[0])")
        process.arguments = Array(command.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FaultNetworkError("\(command.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func run(_ command: [String]) throws {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/\(command[0])")
        process.arguments = Array(command.dropFirst())
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw FaultNetworkError("\(command.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}

struct FaultNetworkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
