//! wc_zig: a plain WASI preview-1 command (it knows nothing of wasmpipe).
//!
//!     wc_zig INPUT_PATH OUTPUT_PATH
//!
//! Counts the lines and bytes of INPUT_PATH, writes the line count (the decimal number alone)
//! to OUTPUT_PATH, prints `lines=N bytes=M label=$LABEL` on stdout. Exits 1 with a message on
//! stderr when the input cannot be read or the output written, 2 on bad usage.
//!
//! Build: examples/polyglot/build.sh zig  (zig build-exe -target wasm32-wasi, Zig 0.17)
//!
//! Zig's standard library without libc has no notion of absolute paths on WASI (its cwd is
//! fd 3), so `resolve` maps an absolute path onto the preopened directory that holds it,
//! the way wasi-libc does.
const std = @import("std");
const Io = std.Io;
const Counter = @import("wc_core.zig").Counter;

const Resolved = struct { dir: Io.Dir, rel: []const u8 };

/// The preopen whose name is the longest whole-component prefix of `path`, and the rest.
fn resolve(preopens: *const std.process.Preopens, path: []const u8) ?Resolved {
    var best: ?usize = null;
    var best_len: usize = 0;
    for (preopens.map.keys(), 0..) |name, fd| {
        if (fd <= 2) continue; // stdin, stdout, stderr
        if (best != null and name.len <= best_len) continue;
        if (!std.mem.startsWith(u8, path, name)) continue;
        const rest = path[name.len..];
        const boundary = rest.len == 0 or rest[0] == '/' or std.mem.endsWith(u8, name, "/");
        if (!boundary) continue;
        best = fd;
        best_len = name.len;
    }
    const fd = best orelse return null;
    const rel = std.mem.trimStart(u8, path[best_len..], "/");
    return .{ .dir = .{ .handle = @intCast(fd) }, .rel = if (rel.len == 0) "." else rel };
}

pub fn main(init: std.process.Init) !u8 {
    const io = init.io;
    var err_buf: [512]u8 = undefined;
    var stderr = Io.File.stderr().writer(io, &err_buf);
    const err = &stderr.interface;
    defer err.flush() catch {};

    const args = try init.minimal.args.toSlice(init.arena.allocator());
    if (args.len != 3) {
        try err.print("usage: wc_zig INPUT_PATH OUTPUT_PATH\n", .{});
        return 2;
    }
    const input, const output = .{ args[1], args[2] };

    const in = resolve(&init.preopens, input) orelse {
        try err.print("wc_zig: cannot read {s}: not inside a preopened directory\n", .{input});
        return 1;
    };
    const file = in.dir.openFile(io, in.rel, .{}) catch |e| {
        try err.print("wc_zig: cannot read {s}: {s}\n", .{ input, @errorName(e) });
        return 1;
    };
    defer file.close(io);
    var counter: Counter = .{};
    var buf: [64 * 1024]u8 = undefined;
    while (true) {
        const n = file.readStreaming(io, &.{&buf}) catch |e| switch (e) {
            error.EndOfStream => break,
            else => {
                try err.print("wc_zig: cannot read {s}: {s}\n", .{ input, @errorName(e) });
                return 1;
            },
        };
        counter.update(buf[0..n]);
    }

    var num: [20]u8 = undefined;
    const lines = try std.fmt.bufPrint(&num, "{d}", .{counter.lines()});
    const out = resolve(&init.preopens, output) orelse {
        try err.print("wc_zig: cannot write {s}: not inside a preopened directory\n", .{output});
        return 1;
    };
    out.dir.writeFile(io, .{ .sub_path = out.rel, .data = lines }) catch |e| {
        try err.print("wc_zig: cannot write {s}: {s}\n", .{ output, @errorName(e) });
        return 1;
    };

    var out_buf: [256]u8 = undefined;
    var stdout = Io.File.stdout().writer(io, &out_buf);
    const label = init.environ_map.get("LABEL") orelse "";
    try stdout.interface.print("lines={d} bytes={d} label={s}\n", .{ counter.lines(), counter.bytes, label });
    try stdout.interface.flush();
    return 0;
}
