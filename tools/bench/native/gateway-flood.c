// gateway-flood: a UDP load generator for the gateway benchmark. Sends small datagrams as fast as
// sendmmsg(2) allows (or at a given rate) from several sockets (flows) to one destination, for a given
// time, then prints one JSON line with what it sent. Compiled with gcc by the benchmark at run time.
//
// BURST datagrams of one flow leave together (one sendmmsg(2)) before the next flow's: 64 by default;
// 1 interleaves the flows packet by packet, as many independent senders would.
//
// usage: gateway-flood DEST-ADDRESS PORT PAYLOAD-BYTES SECONDS FLOWS [PPS [BURST]]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flood.h"

#define MAX_FLOWS 4096

int main(int argc, char **argv) {
  if (!has_arguments(argc, argv, 6, "DEST-ADDRESS PORT PAYLOAD-BYTES SECONDS FLOWS [PPS [BURST]]")) return 64;
  const char *address = argv[1];
  int port = atoi(argv[2]);
  size_t payload = (size_t)atoi(argv[3]);
  double seconds = atof(argv[4]);
  int flows = atoi(argv[5]);
  double pps = argc > 6 ? atof(argv[6]) : 0;
  int burst = argc > 7 ? atoi(argv[7]) : BATCH;
  if (flows < 1 || flows > MAX_FLOWS || payload > 1400 || burst < 1 || burst > BATCH) return 64;
  // A socket per flow: more than the usual 1024 descriptors.
  struct rlimit files = {MAX_FLOWS + 64, MAX_FLOWS + 64};
  setrlimit(RLIMIT_NOFILE, &files);

  struct sockaddr_storage dest;
  socklen_t dest_length;
  memset(&dest, 0, sizeof dest);
  int family = strchr(address, ':') != NULL ? AF_INET6 : AF_INET;
  if (family == AF_INET6) {
    struct sockaddr_in6 *d = (struct sockaddr_in6 *)&dest;
    d->sin6_family = AF_INET6;
    d->sin6_port = htons(port);
    if (inet_pton(AF_INET6, address, &d->sin6_addr) != 1) return 64;
    dest_length = sizeof *d;
  } else {
    struct sockaddr_in *d = (struct sockaddr_in *)&dest;
    d->sin_family = AF_INET;
    d->sin_port = htons(port);
    if (inet_pton(AF_INET, address, &d->sin_addr) != 1) return 64;
    dest_length = sizeof *d;
  }

  int sockets[MAX_FLOWS];
  for (int i = 0; i < flows; i++) {
    sockets[i] = socket(family, SOCK_DGRAM, 0);
    if (sockets[i] < 0 || connect(sockets[i], (struct sockaddr *)&dest, dest_length) < 0) {
      perror("socket/connect");
      return 71;
    }
  }

  unsigned char data[1400];
  memset(data, 0x5a, sizeof data);
  struct iovec iov[BATCH];
  struct mmsghdr messages[BATCH];
  set_up_batch(iov, messages, data, 0, payload);

  unsigned long long sent = 0, failed = 0;
  double start = now(), end = start + seconds, t = start;
  int flow = 0;
  while (t < end) {
    if (pps > 0 && sent > (t - start) * pps) {
      t = now();
      continue;
    }
    int n = sendmmsg(sockets[flow], messages, burst, 0);
    if (n > 0) sent += (unsigned long long)n;
    else failed++;
    flow = (flow + 1) % flows;
    if ((sent & 1023) < (unsigned long long)burst) t = now();
  }
  double elapsed = now() - start;
  printf("{\"sent\":%llu,\"failedCalls\":%llu,\"seconds\":%.6f}\n", sent, failed, elapsed);
  return 0;
}
