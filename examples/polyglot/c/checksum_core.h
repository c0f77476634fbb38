// The logic of checksum_c, free of any WebAssembly binding (tested natively by
// test_checksum_core.c with the host's cc).
#ifndef CHECKSUM_CORE_H
#define CHECKSUM_CORE_H
#include <stddef.h>
#include <stdint.h>

#define FNV1A32_OFFSET 0x811C9DC5u
#define FNV1A32_PRIME 0x01000193u

// A running count: feed it the file in chunks.
typedef struct {
  uint32_t fnv;      // FNV-1a 32-bit hash of the bytes so far
  int64_t newlines;  // '\n' bytes so far
  int last;          // the last byte seen, or -1 before any
} checksum_state;

void checksum_init(checksum_state *s);
void checksum_update(checksum_state *s, const uint8_t *bytes, size_t len);
// Lines: newlines, plus one for a last line without a final newline.
int64_t checksum_lines(const checksum_state *s);
#endif
