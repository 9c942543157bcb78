// TeardownSpeed: the data structures and memory tricks that make connection tracking fast,
// kept apart from the rules they serve.
//
// TeardownModel says what a connection is, which connection a segment belongs to, when a
// connection is reported and which one is evicted. This module says how that is stored and
// walked quickly: an open-addressing flow table (`FlowTable`), connection storage that never
// moves what it holds (`SlotArray`), a queue that loads its next entries ahead of use
// (`LookaheadQueue`), batches of decoded packets handed over from a reading thread
// (`DecodedPacket`, `PacketBatch`) and the walk over a batch that starts loading, a few packets
// ahead, the memory each packet will need (`PacketBatch.walk(tracking:_:)`). It is the only
// module that links the C module `CPrefetch`.
//
// Nothing here decides an output: run with any hash seed, with or without prefetching, the
// tracker reports the same connections in the same order. Like swift-nio's data-structure
// modules, everything is generic and `@inlinable`, so that it is specialised into its callers
// and costs nothing for being in a module of its own.
//
// Layout and timing matter here, and the comments say so; the measurements behind each choice
// are in the commit log and BENCHMARKS.md. Layout matters beyond this module too: the tracker
// reads a whole connection (two `SideTracker`s, Zeek's two endpoints, the facts) on every
// packet, and the prefetches here load all of it, so Model's per-connection types declare their
// fields by size (Swift lays a struct out in declaration order) and keep what most connections
// never use (the event log) behind a reference.
