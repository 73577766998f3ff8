extension PubSub {
    /// The options of a ``PubSub``: Phoenix.PubSub's start options, in Swift.
    ///
    /// | option | default | upstream |
    /// | --- | --- | --- |
    /// | ``name`` | required | `:name` |
    /// | ``poolSize`` | 1 | `:pool_size` |
    /// | ``broadcastPoolSize`` | ``poolSize`` | `:broadcast_pool_size` |
    /// | ``registrySize`` | ``poolSize`` | `:registry_size` |
    /// | ``registryPartitioning`` | `.bySubscriber` | `:group_by` (Combo.PubSub) |
    /// | ``defaultDispatcher`` | ``DefaultDispatcher`` | `:dispatcher` (Combo.PubSub) |
    ///
    /// The defaults are exactly these, whatever the number of cores: unlike
    /// upstream, no size is derived from the machine.
    public struct Configuration: Sendable {
        /// The PubSub's name: labels its logs and metrics, and adapters use it to
        /// keep several PubSubs apart (a channel name, a group). Every node of one
        /// cluster uses the same name.
        public var name: String

        /// The number of independent lanes an adapter runs (connections to each
        /// peer, receive queues). Messages on one lane are handled in order;
        /// different lanes run in parallel. An envelope sent on shard `s` is
        /// received on lane `s % poolSize`. 1 to 65,535; default 1.
        public var poolSize: Int

        /// The number of lanes this node sends on, at most ``poolSize``; `nil`
        /// means ``poolSize``. A message's lane is the topic's stable hash modulo
        /// this number, so one node's messages on one topic stay in order.
        ///
        /// To change ``poolSize`` across a running cluster without losing
        /// messages, deploy in two steps: first the new ``poolSize`` with
        /// `broadcastPoolSize` at the old value, then drop `broadcastPoolSize`.
        /// (Combo's adapters accept every lane on every node, so a mixed cluster
        /// loses nothing even if a step is skipped; the two steps keep a cluster
        /// that mixes in other adapters safe.)
        public var broadcastPoolSize: Int?

        /// The number of partitions of the local subscription registry; `nil`
        /// means ``poolSize``.
        public var registrySize: Int?

        /// How subscriptions are spread over the registry's partitions.
        public var registryPartitioning: RegistryPartitioning

        /// The name of the dispatcher used when a broadcast names none.
        public var defaultDispatcher: String

        /// Dispatchers that broadcasts can name, besides the built-in
        /// ``DefaultDispatcher``. Register the same ones on every node.
        public var dispatchers: [any Dispatcher]

        /// The codec that encodes messages sent to other nodes.
        public var codec: any PayloadCodec

        /// Further codecs this node can decode (JSON and MessagePack are always known).
        public var additionalCodecs: [any PayloadCodec]

        /// The largest envelope this node sends or accepts, in bytes; default 16 MiB.
        public var maximumEnvelopeSize: Int

        /// The buffering of subscribers made without options of their own.
        public var subscriberOptions: SubscriberOptions

        /// How long a graceful shutdown may take to say goodbye: the trackers'
        /// leaves, then the adapter's queues handed to the transport, before
        /// the transport closes. Default 5 s. Past it the transport closes
        /// anyway and what was still queued is counted as lost.
        public var shutdownTimeout: Duration

        /// Creates a configuration with the defaults above.
        public init(
            name: String,
            poolSize: Int = 1,
            broadcastPoolSize: Int? = nil,
            registrySize: Int? = nil,
            registryPartitioning: RegistryPartitioning = .bySubscriber,
            defaultDispatcher: String = DefaultDispatcher.name,
            dispatchers: [any Dispatcher] = [],
            codec: any PayloadCodec = MessagePackPayloadCodec(),
            additionalCodecs: [any PayloadCodec] = [],
            maximumEnvelopeSize: Int = Envelope.defaultMaximumSize,
            subscriberOptions: SubscriberOptions = SubscriberOptions(),
            shutdownTimeout: Duration = .seconds(5)
        ) {
            self.name = name
            self.poolSize = poolSize
            self.broadcastPoolSize = broadcastPoolSize
            self.registrySize = registrySize
            self.registryPartitioning = registryPartitioning
            self.defaultDispatcher = defaultDispatcher
            self.dispatchers = dispatchers
            self.codec = codec
            self.additionalCodecs = additionalCodecs
            self.maximumEnvelopeSize = maximumEnvelopeSize
            self.subscriberOptions = subscriberOptions
            self.shutdownTimeout = shutdownTimeout
        }

        /// The effective number of lanes this node sends on.
        public var effectiveBroadcastPoolSize: Int { broadcastPoolSize ?? poolSize }

        /// The effective number of registry partitions.
        public var effectiveRegistrySize: Int { registrySize ?? poolSize }

        /// Checks every option.
        ///
        /// - Throws: ``ConfigurationError`` naming the first invalid option.
        public func validate() throws(ConfigurationError) {
            guard !name.isEmpty else { throw .emptyName }
            guard (1...Int(UInt16.max)).contains(poolSize) else { throw .invalidPoolSize(poolSize) }
            let broadcast = effectiveBroadcastPoolSize
            guard broadcast >= 1 else { throw .invalidBroadcastPoolSize(broadcast) }
            guard broadcast <= poolSize else {
                throw .broadcastPoolSizeExceedsPoolSize(broadcastPoolSize: broadcast, poolSize: poolSize)
            }
            guard effectiveRegistrySize >= 1 else { throw .invalidRegistrySize(effectiveRegistrySize) }
            var names: Set<String> = [DefaultDispatcher.name]
            for dispatcher in dispatchers {
                let length = dispatcher.name.utf8.count
                guard (1...255).contains(length) else { throw .invalidDispatcherName(dispatcher.name) }
                guard names.insert(dispatcher.name).inserted else { throw .duplicateDispatcher(dispatcher.name) }
            }
            guard names.contains(defaultDispatcher) else { throw .unknownDefaultDispatcher(defaultDispatcher) }
            _ = try codecTable()
            guard maximumEnvelopeSize >= 1024 else { throw .invalidMaximumEnvelopeSize(maximumEnvelopeSize) }
            guard subscriberOptions.capacity >= 1 else {
                throw .invalidSubscriberCapacity(subscriberOptions.capacity)
            }
            guard shutdownTimeout >= .zero else { throw .invalidShutdownTimeout(shutdownTimeout) }
        }

        /// Every codec this node decodes, by id: the built-ins plus the configured ones.
        func codecTable() throws(ConfigurationError) -> [UInt8: any PayloadCodec] {
            var table: [UInt8: any PayloadCodec] = [
                JSONPayloadCodec.id: JSONPayloadCodec(),
                MessagePackPayloadCodec.id: MessagePackPayloadCodec(),
            ]
            for codec in [codec] + additionalCodecs {
                if let existing = table[codec.id] {
                    // A built-in or the same codec listed twice is harmless; two codecs claiming one id are not.
                    guard existing.name == codec.name else { throw .invalidCodecID(codec.id) }
                    if codec.id < 128 { continue }
                } else if codec.id < 128 {
                    // 0 is raw bytes; 1 to 127 belong to Combo's built-in codecs.
                    throw .invalidCodecID(codec.id)
                }
                table[codec.id] = codec
            }
            return table
        }
    }
}
