import ArgumentParser

/// `combo bench …`: benchmarks, to run from a release build.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Combo's throughput and memory (build with -c release).",
        subcommands: [
            LocalBenchCommand.self, MeshBenchCommand.self, RedisBenchCommand.self, ZMQBenchCommand.self,
            TrackerBenchCommand.self,
        ]
    )
}
