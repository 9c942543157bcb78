import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A program run to completion from the calling thread (posix_spawn(3)), so that it starts in
/// that thread's network namespace (the child copies the calling thread's namespaces).
enum Subprocess {
    static func run(_ argv: [String]) throws {
        var pid: pid_t = 0
        let cArgs = argv.map { strdup($0) } + [nil]
        defer { for a in cArgs { free(a) } }
        let rc = posix_spawnp(&pid, argv[0], nil, nil, cArgs, environ)
        guard rc == 0 else { throw DriverError.setup("cannot run \(argv[0]): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = status & 0x7f == 0, code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            throw DriverError.setup("\(argv.joined(separator: " ")) failed (\(exited ? "exit status \(code)" : "signal \(status & 0x7f)"))")
        }
    }
}
