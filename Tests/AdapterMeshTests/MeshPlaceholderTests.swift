import AdapterMesh
import Testing

@Suite("Mesh adapter module")
struct MeshPlaceholderTests {
    @Test("the module links with its dependencies")
    func links() {
        #expect(MeshWireVersion.current == 1)
    }
}
