import ArgumentParser

/// The `combo` tool: runs Combo's demo and benchmarks.
@main
struct ComboCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "combo",
        abstract: "Distributed publish/subscribe and presence for Swift servers.",
        subcommands: [DemoCommand.self, NodeCommand.self, BenchCommand.self, ZMQProxyCommand.self]
    )
}
