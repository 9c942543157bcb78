import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// scripts/install.sh, with `--binary` (the built binary; the build itself is `swift build -c
/// release`, which the tests do not repeat): installed where asked, removed again, and, as
/// root with --setcap, capturing as nobody without root.
@Suite(.serialized) struct InstallTests {
    static let script = CLI.packageRoot.appendingPathComponent("scripts/install.sh").path

    /// A fresh directory nobody can enter (mode 0755), for prefixes and copies of the script.
    static func tmpDir() throws -> String {
        let dir = "/tmp/teardown-install-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        chmod(dir, 0o755)
        return dir
    }

    static func sh(_ args: [String], as user: String? = nil) throws -> CLI.Result {
        let p = Process()
        if let user {
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            p.arguments = ["-u", user, "--"] + args
        } else {
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = args
        }
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let (o, e) = CLI.readToEnd(out, err)
        p.waitUntilExit()
        return CLI.Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func installsRunsAndUninstalls() throws {
        let dir = try Self.tmpDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prefix = dir + "/prefix"
        let target = prefix + "/bin/teardown"
        let r = try Self.sh(["bash", Self.script, "--prefix", prefix, "--binary", CLI.binary.path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("installed \(target)\n"), "\(r.stdout)")
        #expect(r.stdout.contains("note: \(prefix)/bin is not on your PATH"))
        #expect(FileManager.default.contentsEqual(atPath: target, andPath: CLI.binary.path))
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? Int)
        #expect(mode == 0o755)
        let listed = try Self.sh([target, "scenarios"])
        #expect(listed.status == 0 && listed.stdout.contains("linger-zero"))

        let removed = try Self.sh(["bash", Self.script, "--prefix", prefix, "--uninstall"])
        #expect(removed.status == 0 && removed.stdout == "removed \(target)\n", "\(removed.stdout)\(removed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: target))
        let again = try Self.sh(["bash", Self.script, "--prefix", prefix, "--uninstall"])
        #expect(again.status == 0 && again.stdout.contains("is not installed; nothing to remove"))

        let bad = try Self.sh(["bash", Self.script, "--frobnicate"])
        #expect(bad.status == 64 && bad.stderr.contains("unknown option --frobnicate"))
    }

    /// As root: --setcap grants the capabilities, and nobody can then capture with the
    /// installed binary (no "no permission to capture", exit 0 on SIGINT); nobody cannot
    /// install into a directory it cannot write, and says why.
    @Test func asRoot_setcapLetsNobodyCapture_andNobodyCannotInstallIntoRootsPrefix() throws {
        guard geteuid() == 0 else {
            print("skipping the setcap install test: granting capabilities needs root (CI runs as root)")
            return
        }
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/setcap") else {
            print("skipping the setcap install test: /usr/sbin/setcap is missing (Debian: libcap2-bin)")
            return
        }
        let dir = try Self.tmpDir()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let prefix = dir + "/prefix"
        let target = prefix + "/bin/teardown"
        let r = try Self.sh(["bash", Self.script, "--prefix", prefix, "--binary", CLI.binary.path, "--setcap"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("granted cap_net_raw,cap_net_admin to \(target)"))
        let caps = try Self.sh(["/usr/sbin/getcap", target])
        #expect(caps.stdout.contains("cap_net_admin,cap_net_raw=eip"), "\(caps.stdout)")

        var fs = statvfs()
        if statvfs(target, &fs) == 0 && fs.f_flag & UInt(ST_NOSUID) != 0 {
            print("skipping the capture as nobody: \(dir) is on a nosuid mount, where file capabilities do not apply")
        } else {
            let live = try Self.sh(["timeout", "--foreground", "--preserve-status", "-s", "INT", "1", target, "live", "-i", "lo", "tcp port 9"], as: "nobody")
            #expect(!live.stderr.contains("no permission to capture"), "\(live.stderr)")
            #expect(live.stderr.contains("capturing on lo"), "\(live.stderr)")
            #expect(live.status == 0, "\(live.status): \(live.stderr)")
        }

        // nobody, a prefix owned by root (mode 0755), no sudo to ask: one line, status 1.
        let scripts = dir + "/copy/scripts"
        try FileManager.default.createDirectory(atPath: scripts, withIntermediateDirectories: true)
        chmod(dir + "/copy", 0o755); chmod(scripts, 0o755)
        try FileManager.default.copyItem(atPath: Self.script, toPath: scripts + "/install.sh")
        chmod(scripts + "/install.sh", 0o755)
        let refused = try Self.sh(["bash", scripts + "/install.sh", "--prefix", prefix, "--binary", try CLI.binaryNobodyCanRun()], as: "nobody")
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("cannot write \(target)"), "\(refused.stderr)")
        // The root-installed binary is still there and still has its capabilities.
        #expect(try Self.sh(["/usr/sbin/getcap", target]).stdout.contains("cap_net_raw"))
    }
}
