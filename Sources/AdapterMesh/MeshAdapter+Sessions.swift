import Combo
import NIOCore
import NIOPosix

/// The dialling side: seeds, sessions to peers, and periodic gossip.
extension MeshAdapter {
    /// Dials a seed until it answers once, then learns the node found there
    /// (whose own session takes over) and closes the probe connection.
    func runSeed(_ address: MeshAddress) async {
        var attempt = 0
        while !Task.isCancelled {
            do {
                let probe = try await dial(address, lane: 0)
                probe.writer.close()
                learn(MeshMember(node: probe.hello.node, address: probe.hello.address))
                return
            } catch MeshRejection.ownNode {
                logger.debug("mesh seed is this node itself", metadata: ["seed": "\(address)"])
                return
            } catch {
                logger.debug("mesh seed unreachable", metadata: ["seed": "\(address)", "error": "\(error)"])
            }
            try? await Task.sleep(for: settings.backoff(attempt: attempt))
            attempt += 1
        }
    }

    /// Keeps a session to `peer` up: dials every lane, runs until one of them
    /// closes, then reconnects with capped, jittered exponential backoff
    /// (woken early by news of a new boot or address). A node unreachable for
    /// `forgetAfter` is forgotten.
    ///
    /// A session lost within one liveness timeout after this node woke from a
    /// pause is most likely the peer's verdict on this node's silence, not a
    /// sign of the peer's death: the node is dialled again at once, and
    /// announced down only if that fails or reaches another boot.
    func runSession(_ peer: MeshPeer) async {
        var attempt = 0
        var unreachableSince = ContinuousClock.now
        /// A member whose down is held back while it is dialled again.
        var doubted: MeshMember?
        func announceDoubted() {
            if let member = doubted { nodeDown(member) }
            doubted = nil
        }
        while !Task.isCancelled {
            var writers: [MeshLaneWriter] = []
            do {
                let address = peer.address
                let first = try await dial(address, lane: 0)
                writers.append(first.writer)
                guard first.hello.node.name == peer.name else {
                    metrics.rejected(.unexpectedNode, logger: logger)
                    throw MeshRejection.unexpectedNode
                }
                for lane in 1..<max(1, first.hello.poolSize) {
                    let next = try await dial(address, lane: lane)
                    writers.append(next.writer)
                    guard next.hello.node == first.hello.node else { throw MeshRejection.unexpectedNode }
                }
                let member = MeshMember(node: first.hello.node, address: first.hello.address)
                if peer.sessionUp(member, writers: writers) {
                    if member == doubted {
                        // The same boot answered: it was never down.
                        doubted = nil
                        logger.info("mesh session restored after this node's pause", metadata: ["member": "\(member)"])
                    } else {
                        announceDoubted()
                        nodeUp(member)
                    }
                    attempt = 0
                    await waitForAnyClose(writers)
                    if let member = peer.sessionDown() {
                        if settings.localHealth.reading().pausedWithin(settings.livenessTimeout, of: .now) {
                            metrics.downsDeferred.increment()
                            logger.info("mesh session lost just after this node's pause; dialling again before announcing it down",
                                        metadata: ["member": "\(member)"])
                            doubted = member
                        } else {
                            nodeDown(member)
                        }
                    }
                    unreachableSince = .now
                } else {
                    announceDoubted()
                    metrics.rejected(.staleIncarnation, logger: logger)
                }
            } catch {
                logger.debug("mesh peer unreachable", metadata: ["peer": "\(peer.name)", "error": "\(error)"])
                announceDoubted()
            }
            for writer in writers { writer.close() }
            if Task.isCancelled { break }
            if ContinuousClock.now - unreachableSince > settings.forgetAfter {
                announceDoubted()
                forget(peer)
                return
            }
            // A doubted member is dialled again at once.
            if doubted == nil {
                await peer.pause(settings.backoff(attempt: attempt))
                attempt += 1
            }
        }
        announceDoubted()
        peer.stop()
        if let member = peer.sessionDown() { nodeDown(member) }
    }

    /// Waits until one of the lanes closes, then closes the others: a session
    /// is all its lanes or nothing, so the shard-to-lane mapping never changes under it.
    private func waitForAnyClose(_ writers: [MeshLaneWriter]) async {
        await withTaskCancellationHandler {
            await withTaskGroup(of: Void.self) { group in
                for writer in writers {
                    group.addTask { try? await writer.channel.closeFuture.get() }
                }
                await group.next()
                for writer in writers { writer.close() }
                await group.waitForAll()
            }
        } onCancel: {
            for writer in writers { writer.close() }
        }
    }

    /// Opens one outbound connection and completes its handshake.
    func dial(_ address: MeshAddress, lane: Int) async throws -> MeshEstablished {
        let loop = group.next()
        let established = loop.makePromise(of: MeshEstablished.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: loop)
                .connectTimeout(settings.handshakeTimeout.timeAmount)
                .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .channelOption(ChannelOptions.writeBufferWaterMark, value: settings.writeBufferWaterMark)
                .channelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try configure(channel, role: .dialer, lane: lane, established: established)
                    }
                }
                .connect(host: address.host, port: address.port)
                .get()
        } catch {
            established.fail(error)
            throw error
        }
        do {
            return try await withTaskCancellationHandler {
                try await established.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// Re-sends this node's gossip now and then, so that a member missed
    /// during churn is learned on the next round.
    func runGossipTicker() async {
        let interval = settings.heartbeatInterval * 5
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            gossipToAll()
        }
    }
}
