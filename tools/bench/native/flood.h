// What the benchmark's load generators (gateway-flood.c, gateway-sessions.c) share: the clock, the
// usage check, and the batch of BATCH messages that one sendmmsg(2) sends.
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/** False, after printing the usage, when fewer than `needed` arguments were given. */
static int has_arguments(int argc, char **argv, int needed, const char *usage) {
  if (argc >= needed) return 1;
  fprintf(stderr, "usage: %s %s\n", argv[0], usage);
  return 0;
}

/** Message i of the batch sends `length` bytes from `data + i * stride` (stride 0: all the same bytes). */
static void set_up_batch(struct iovec iov[BATCH], struct mmsghdr messages[BATCH], unsigned char *data, size_t stride, size_t length) {
  memset(messages, 0, sizeof(struct mmsghdr) * BATCH);
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = data + i * stride;
    iov[i].iov_len = length;
    messages[i].msg_hdr.msg_iov = &iov[i];
    messages[i].msg_hdr.msg_iovlen = 1;
  }
}
