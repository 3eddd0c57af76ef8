// gateway-sessions: a new-session load generator for the gateway benchmark. Every datagram comes
// from a transport address not used before (raw IPv6 UDP sockets bound to several source addresses,
// source ports counting up), so each one makes the NAT64 create a session and a BIB entry. Sends
// with sendmmsg(2) as fast as it can (or at a given rate) for a given time, or until the ports run
// out, or until SIGTERM, then prints one JSON line with what it sent. Compiled with gcc by the benchmark at run time.
//
// usage: gateway-sessions DEST-ADDRESS PORT PAYLOAD-BYTES SECONDS FIRST-PORT LAST-PORT PPS SOURCE-ADDRESS...
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flood.h"

#define MAX_SOURCES 64
#define UDP_HEADER 8

static volatile sig_atomic_t stopping = 0;

static void stop(int signal) {
  (void)signal;
  stopping = 1;
}

int main(int argc, char **argv) {
  if (!has_arguments(argc, argv, 9, "DEST-ADDRESS PORT PAYLOAD-BYTES SECONDS FIRST-PORT LAST-PORT PPS SOURCE-ADDRESS...")) return 64;
  struct sockaddr_in6 dest;
  memset(&dest, 0, sizeof dest);
  dest.sin6_family = AF_INET6;
  // Raw sockets take the port from the UDP header we write; sin6_port must stay 0.
  if (inet_pton(AF_INET6, argv[1], &dest.sin6_addr) != 1) return 64;
  int port = atoi(argv[2]);
  size_t payload = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  int first_port = atoi(argv[5]);
  int last_port = atoi(argv[6]);
  double pps = atof(argv[7]);
  int sources = argc - 8;
  if (sources > MAX_SOURCES || payload > 1400 || first_port < 1 || last_port > 65535 || first_port > last_port) return 64;

  int sockets[MAX_SOURCES];
  for (int i = 0; i < sources; i++) {
    struct sockaddr_in6 source;
    memset(&source, 0, sizeof source);
    source.sin6_family = AF_INET6;
    if (inet_pton(AF_INET6, argv[8 + i], &source.sin6_addr) != 1) return 64;
    sockets[i] = socket(AF_INET6, SOCK_RAW, IPPROTO_UDP);
    // RFC 3542 3.1: the kernel computes the UDP checksum (at offset 6) over the pseudo-header.
    int offset = 6;
    int small = 1;
    if (sockets[i] < 0 || setsockopt(sockets[i], IPPROTO_IPV6, IPV6_CHECKSUM, &offset, sizeof offset) < 0 ||
        bind(sockets[i], (struct sockaddr *)&source, sizeof source) < 0) {
      perror("raw socket");
      return 71;
    }
    // Every UDP datagram to this host would be queued on the raw socket too: keep that small.
    setsockopt(sockets[i], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }

  // One datagram buffer per batch slot: UDP header (source port varies) and payload.
  static uint8_t data[BATCH][UDP_HEADER + 1400];
  struct iovec iov[BATCH];
  struct mmsghdr messages[BATCH];
  set_up_batch(iov, messages, data[0], sizeof data[0], UDP_HEADER + payload);
  for (int i = 0; i < BATCH; i++) {
    memset(data[i], 0x5a, sizeof data[i]);
    data[i][2] = (uint8_t)(port >> 8);
    data[i][3] = (uint8_t)port;
    data[i][4] = (uint8_t)((UDP_HEADER + payload) >> 8);
    data[i][5] = (uint8_t)(UDP_HEADER + payload);
    data[i][6] = 0;
    data[i][7] = 0;
    messages[i].msg_hdr.msg_name = &dest;
    messages[i].msg_hdr.msg_namelen = sizeof dest;
  }

  unsigned long long sent = 0, failed = 0;
  int next_port = first_port;
  int source = 0;
  int count = 0;
  double start = now(), end = start + seconds, t = start;
  struct timespec pause = {0, 50000};
  // SIGTERM ends the run early, still with the report of what was sent.
  signal(SIGTERM, stop);
  while (t < end && next_port <= last_port && !stopping) {
    if (pps > 0 && sent >= (t - start) * pps) {
      // Ahead of the rate: sleep rather than spin, the receiver may need this core.
      nanosleep(&pause, NULL);
      t = now();
      continue;
    }
    if (source == 0) {
      // The next run of source ports, sent from every source address in turn.
      count = BATCH;
      if (next_port + count > last_port + 1) count = last_port + 1 - next_port;
      for (int i = 0; i < count; i++) {
        data[i][0] = (uint8_t)((next_port + i) >> 8);
        data[i][1] = (uint8_t)(next_port + i);
      }
    }
    int n = sendmmsg(sockets[source], messages, (unsigned)count, 0);
    if (n > 0) sent += (unsigned long long)n;
    else failed++;
    if (++source == sources) {
      source = 0;
      next_port += count;
    }
    t = now();
  }
  double elapsed = now() - start;
  printf("{\"sent\":%llu,\"failedCalls\":%llu,\"seconds\":%.6f,\"nextPort\":%d}\n", sent, failed, elapsed, next_port);
  return 0;
}
