// Native test of checksum_core (no WebAssembly): cc test_checksum_core.c checksum_core.c && ./a.out
#include <assert.h>
#include <stdio.h>
#include <string.h>
#include "checksum_core.h"

static checksum_state of(const char *text) {
  checksum_state s;
  checksum_init(&s);
  // in two chunks, to check that the state carries over
  size_t n = strlen(text), half = n / 2;
  checksum_update(&s, (const uint8_t *)text, half);
  checksum_update(&s, (const uint8_t *)text + half, n - half);
  return s;
}

int main(void) {
  checksum_state s = of("");
  assert(s.fnv == 0x811C9DC5u && checksum_lines(&s) == 0);
  s = of("a");  // the published FNV-1a test vector
  assert(s.fnv == 0xE40C292Cu && checksum_lines(&s) == 1);
  s = of("foobar");
  assert(s.fnv == 0xBF9CF968u);
  s = of("1\n2\n3\n4\n5\n");
  assert(checksum_lines(&s) == 5);
  s = of("1\n2");
  assert(checksum_lines(&s) == 2);
  puts("checksum_core: ok");
  return 0;
}
