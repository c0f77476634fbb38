//! The counting logic of wc_zig, free of any I/O, tested natively with `zig test wc_core.zig`.
const std = @import("std");

/// Lines and bytes of a stream fed in chunks. A last line without a final newline counts
/// as a line (as in checksum_c).
pub const Counter = struct {
    bytes: u64 = 0,
    newlines: u64 = 0,
    last: ?u8 = null,

    pub fn update(c: *Counter, chunk: []const u8) void {
        c.bytes += chunk.len;
        c.newlines += std.mem.countScalar(u8, chunk, '\n');
        if (chunk.len > 0) c.last = chunk[chunk.len - 1];
    }

    pub fn lines(c: Counter) u64 {
        const partial: u64 = if (c.last) |b| @intFromBool(b != '\n') else 0;
        return c.newlines + partial;
    }
};

fn countOf(text: []const u8) Counter {
    var c: Counter = .{};
    c.update(text[0 .. text.len / 2]);
    c.update(text[text.len / 2 ..]);
    return c;
}

test "empty" {
    const c = countOf("");
    try std.testing.expectEqual(@as(u64, 0), c.lines());
    try std.testing.expectEqual(@as(u64, 0), c.bytes);
}

test "lines and bytes" {
    const c = countOf("1\n2\n3\n4\n5\n");
    try std.testing.expectEqual(@as(u64, 5), c.lines());
    try std.testing.expectEqual(@as(u64, 10), c.bytes);
    try std.testing.expectEqual(@as(u64, 2), countOf("1\n2").lines());
}
