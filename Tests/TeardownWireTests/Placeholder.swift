import Testing
@Test func placeholder_TeardownWireTests() { #expect(1 + 1 == 2) }
