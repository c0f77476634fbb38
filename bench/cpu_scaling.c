// Does this machine scale to two cores for plain work? A compute loop (mode 0) or a memcpy
// loop over SIZE_MIB of memory (mode 1) on one thread, then on two (each doing the same work):
// equal times mean 2x. BENCHMARKS.md ("The two-core bound") compares this with wasmtime's own
// scaling on two threads.
//
//   cc -O2 -pthread bench/cpu_scaling.c -o /tmp/cpu_scaling
//   /tmp/cpu_scaling 0 1 400000; /tmp/cpu_scaling 0 2 400000        # compute
//   /tmp/cpu_scaling 1 1 100000 64; /tmp/cpu_scaling 1 2 100000 64  # memcpy over 64 MiB
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long rounds;
static int mode;
static size_t size = 1 << 20;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void *work(void *unused) {
  (void)unused;
  volatile unsigned long x = 1;
  char *src = malloc(size), *dst = malloc(size);
  memset(src, 1, size);
  memset(dst, 1, size);
  for (long i = 0; i < rounds; i++) {
    if (mode == 0) {
      for (int j = 0; j < 1000; j++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    } else {
      memcpy(dst + (i * 60000L) % (size - 60000), src + (i * 7 * 60000L) % (size - 60000), 60000);
    }
  }
  free(src);
  free(dst);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s MODE(0 compute, 1 memcpy) THREADS ROUNDS [SIZE_MIB]\n", argv[0]);
    return 2;
  }
  mode = atoi(argv[1]);
  int threads = atoi(argv[2]);
  rounds = atol(argv[3]);
  if (argc > 4) size = (size_t)atol(argv[4]) << 20;
  if (threads < 1 || threads > 64 || size <= 60000) return 2;
  pthread_t t[64];
  double start = now();
  for (int i = 0; i < threads; i++) pthread_create(&t[i], NULL, work, NULL);
  for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
  printf("mode %d, %d thread(s): %.3f s\n", mode, threads, now() - start);
  return 0;
}
