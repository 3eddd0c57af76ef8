// Opening one queue of a Linux TUN device (IFF_TUN | IFF_NO_PI) or TAP device (IFF_TAP | IFF_NO_PI) and the
// interface settings the binding applies itself (MTU, queue length, up, persistence). Plain syscalls, no JavaScript.
#pragma once

#include <string>

namespace tun {

// sizeof(struct virtio_net_hdr): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset.
constexpr int kVnetHeaderSize = 10;

struct OpenRequest {
  std::string name;          // an interface name or a pattern with %d; the kernel fills it in
  bool multi_queue = false;  // IFF_MULTI_QUEUE: every open of the same name adds one queue
  int persist = -1;          // TUNSETPERSIST: 1 set, 0 clear, -1 leave as it is
  int mtu = 0;               // SIOCSIFMTU when > 0
  bool up = false;           // SIOCSIFFLAGS |= IFF_UP
  int tx_queue_length = 0;   // SIOCSIFTXQLEN when > 0: packets the kernel queues for us to read
  bool non_blocking = true;  // O_NONBLOCK on the queue's file descriptor
  bool offload = false;      // IFF_VNET_HDR with checksum and TSO offloads (a virtio-net header per packet)
  bool tap = false;          // IFF_TAP: Ethernet frames instead of IP packets
  bool receive_segments = true;  // with offload: TUN_F_TSO4/6, reads may bring TCP segments of up to 64 KiB
  bool receive_checksums = true;  // with offload: TUN_F_CSUM; false: reads are complete packets, only writes use the header
};

struct OpenResult {
  int fd = -1;
  std::string name;  // the name the kernel gave the device
  int mtu = 0;
  int tx_queue_length = 0;
  int ifindex = 0;
  bool udp_segmentation = false;  // with offload: the kernel takes TUN_F_USO4/6 (Linux 6.2+), so UDP GSO works
  int error = 0;               // errno of the step that failed, 0 on success
  const char* step = nullptr;  // which step failed, in the words of the TypeScript error hints
};

// Opens one queue. On failure nothing stays open and `error`/`step` say what went wrong.
OpenResult OpenQueue(const OpenRequest& request);

}  // namespace tun
