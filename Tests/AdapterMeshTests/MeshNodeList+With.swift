import AdapterMesh

/// Runs `body` with a list that collects nodes, and stops them all afterwards, even on failure.
func withMeshNodes<Result>(_ body: (MeshNodeList) async throws -> Result) async throws -> Result {
    let nodes = MeshNodeList()
    do {
        let result = try await body(nodes)
        await nodes.stopAll()
        return result
    } catch {
        await nodes.stopAll()
        throw error
    }
}
