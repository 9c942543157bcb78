import Testing
@Test func placeholder_TeardownCLITests() { #expect(1 + 1 == 2) }
