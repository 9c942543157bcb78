import Testing
@Test func placeholder_TeardownRenderTests() { #expect(1 + 1 == 2) }
