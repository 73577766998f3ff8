extension Tracker {
    /// A tracker's options: Phoenix.Tracker's `pool_opts`, with the same defaults
    /// and the same validation.
    ///
    /// Every node of a cluster must run a tracker of the same ``name`` and
    /// ``poolSize`` on its ``PubSub``; the periods may differ per node but are
    /// normally the same.
    public struct Configuration: Sendable, Equatable {
        /// The tracker's name (Elixir's `:name`): part of the topics its shards
        /// talk on, so that several trackers can share one PubSub.
        public var name: String
        /// How many independent shards, each owning the topics that hash to it
        /// (Elixir's `:pool_size`). Default 1.
        public var poolSize: Int
        /// How often each shard sends its pending changes (Elixir's
        /// `:broadcast_period`). Default 1.5 s.
        public var broadcastPeriod: Duration
        /// After this many periods without changes a shard sends an empty
        /// heartbeat so peers know it is alive (Elixir's `:max_silent_periods`).
        /// Default 10.
        public var maxSilentPeriods: Int
        /// A replica not heard from for this long is down: its presences are
        /// hidden until it is heard again (Elixir's `:down_period`). Default
        /// `broadcastPeriod * maxSilentPeriods * 2` (30 s); at least twice the
        /// broadcast period. `nil` means the default.
        public var downPeriod: Duration?
        /// A replica not heard from for this long is gone for good: its
        /// presences are discarded and the replica forgotten (Elixir's
        /// `:permdown_period`). Default 20 minutes; larger than the down period.
        public var permdownPeriod: Duration
        /// How many heartbeat periods to collect remote clocks before asking the
        /// dominant peers for a transfer (Elixir's `:clock_sample_periods`). Default 2.
        public var clockSamplePeriods: Int
        /// The sizes of the delta generations kept to answer transfer requests
        /// before falling back to the entire state (Elixir's `:max_delta_sizes`).
        /// Default `[100, 1000, 10000]`.
        public var maxDeltaSizes: [Int]
        /// Whether a graceful shutdown makes the others drop this node's
        /// presences at once (Elixir's `permdown_on_shutdown`), instead of
        /// after the down period. Default `true`: a user who closed the tab
        /// during a deploy must not stay listed for the down period, nor be
        /// listed twice after reconnecting to another node; a leave and a join
        /// during a rolling restart cost a presence diff. Set `false` to keep a
        /// stopped node's presences until the down period passes, as upstream's
        /// default does.
        public var permdownOnShutdown: Bool
        /// How many unread events a ``PresenceEvents`` sequence may hold before
        /// it ends with ``TrackerError/eventsOverflow``. Default 65,536.
        public var eventBufferLimit: Int
        /// How many diffs may wait for the tracker's ``TrackerHandler``: diffs
        /// are queued under a shard's lock, which never waits for the handler,
        /// so a handler further behind loses the oldest, counted in
        /// `combo_tracker_handler_diffs_dropped_total`. Default 65,536.
        public var handlerBufferLimit: Int

        /// Options with upstream's defaults.
        public init(
            name: String,
            poolSize: Int = 1,
            broadcastPeriod: Duration = .milliseconds(1500),
            maxSilentPeriods: Int = 10,
            downPeriod: Duration? = nil,
            permdownPeriod: Duration = .seconds(1200),
            clockSamplePeriods: Int = 2,
            maxDeltaSizes: [Int] = [100, 1000, 10_000],
            permdownOnShutdown: Bool = true,
            eventBufferLimit: Int = 65_536,
            handlerBufferLimit: Int = 65_536
        ) {
            self.name = name
            self.poolSize = poolSize
            self.broadcastPeriod = broadcastPeriod
            self.maxSilentPeriods = maxSilentPeriods
            self.downPeriod = downPeriod
            self.permdownPeriod = permdownPeriod
            self.clockSamplePeriods = clockSamplePeriods
            self.maxDeltaSizes = maxDeltaSizes
            self.permdownOnShutdown = permdownOnShutdown
            self.eventBufferLimit = eventBufferLimit
            self.handlerBufferLimit = handlerBufferLimit
        }

        /// The down period in force: ``downPeriod`` or its default.
        public var effectiveDownPeriod: Duration {
            downPeriod ?? broadcastPeriod * (maxSilentPeriods * 2)
        }

        /// Checks every rule; ``Tracker`` calls it before starting.
        ///
        /// - Throws: the first ``TrackerConfigurationError`` found.
        public func validate() throws(TrackerConfigurationError) {
            let nameLength = name.utf8.count
            guard nameLength > 0, nameLength <= 200,
                !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
            else {
                throw .invalidName(name)
            }
            guard poolSize >= 1 else { throw .invalidPoolSize(poolSize) }
            guard broadcastPeriod > .zero else { throw .invalidBroadcastPeriod(broadcastPeriod) }
            guard maxSilentPeriods >= 1 else { throw .invalidMaxSilentPeriods(maxSilentPeriods) }
            let down = effectiveDownPeriod
            guard down >= broadcastPeriod * 2 else {
                throw .downPeriodTooShort(downPeriod: down, broadcastPeriod: broadcastPeriod)
            }
            guard permdownPeriod > down else {
                throw .permdownPeriodTooShort(permdownPeriod: permdownPeriod, downPeriod: down)
            }
            guard clockSamplePeriods >= 1 else { throw .invalidClockSamplePeriods(clockSamplePeriods) }
            guard !maxDeltaSizes.isEmpty, maxDeltaSizes.allSatisfy({ $0 >= 1 }),
                zip(maxDeltaSizes, maxDeltaSizes.dropFirst()).allSatisfy({ $0 < $1 })
            else {
                throw .invalidMaxDeltaSizes(maxDeltaSizes)
            }
            guard eventBufferLimit >= 1 else { throw .invalidEventBufferLimit(eventBufferLimit) }
            guard handlerBufferLimit >= 1 else { throw .invalidHandlerBufferLimit(handlerBufferLimit) }
        }
    }
}
