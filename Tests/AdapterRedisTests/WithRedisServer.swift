/// Starts a `redis-server`, runs `body`, and stops the server whether `body` returns or throws.
func withRedisServer<T: Sendable>(password: String? = nil, _ body: (RedisServer) async throws -> T) async throws -> T {
    let server = try await RedisServer.start(password: password)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}
