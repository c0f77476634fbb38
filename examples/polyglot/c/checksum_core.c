#include "checksum_core.h"

void checksum_init(checksum_state *s) {
  s->fnv = FNV1A32_OFFSET;
  s->newlines = 0;
  s->last = -1;
}

void checksum_update(checksum_state *s, const uint8_t *bytes, size_t len) {
  uint32_t h = s->fnv;
  for (size_t i = 0; i < len; i++) {
    h = (h ^ bytes[i]) * FNV1A32_PRIME;
    if (bytes[i] == '\n') s->newlines++;
  }
  s->fnv = h;
  if (len > 0) s->last = bytes[len - 1];
}

int64_t checksum_lines(const checksum_state *s) {
  return s->newlines + (s->last != -1 && s->last != '\n' ? 1 : 0);
}
