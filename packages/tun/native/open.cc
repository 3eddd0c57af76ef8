// See open.h. The order of the steps matters: persistence is set last, so that a failure in an
// earlier step closes the only descriptor and the kernel removes the device it just created.
#include "open.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tun {

// TUN_F_USO4 and TUN_F_USO6 (include/uapi/linux/if_tun.h, Linux 6.2), missing from older headers.
constexpr unsigned long kTunUso4 = 0x20;
constexpr unsigned long kTunUso6 = 0x40;

namespace {

constexpr const char* kCloneDevice = "/dev/net/tun";

OpenResult Fail(OpenResult result, const char* step, int error, int fd, int sock) {
  if (sock >= 0) close(sock);
  if (fd >= 0) close(fd);
  result.fd = -1;
  result.error = error;
  result.step = step;
  return result;
}

void SetName(struct ifreq* ifr, const std::string& name) {
  memset(ifr, 0, sizeof(*ifr));
  memcpy(ifr->ifr_name, name.data(), name.size() < IFNAMSIZ - 1 ? name.size() : IFNAMSIZ - 1);
}

// An int setting of the interface, with its ioctls and its field of struct ifreq.
struct IntSetting {
  unsigned long set;
  const char* set_step;
  unsigned long get;
  const char* get_step;
  int& (*field)(struct ifreq&);
};

constexpr IntSetting kMtu = {SIOCSIFMTU, "SIOCSIFMTU", SIOCGIFMTU, "SIOCGIFMTU", [](struct ifreq& r) -> int& { return r.ifr_mtu; }};
constexpr IntSetting kTxQueueLength = {SIOCSIFTXQLEN, "SIOCSIFTXQLEN", SIOCGIFTXQLEN, "SIOCGIFTXQLEN",
                                       [](struct ifreq& r) -> int& { return r.ifr_qlen; }};

// Sets the setting to `wanted` when that is above zero, then reads back what the kernel holds into
// *value. Returns nullptr, or the step that failed (errno tells why).
const char* SetThenGet(int sock, struct ifreq* ifr, const std::string& name, const IntSetting& setting, int wanted, int* value) {
  if (wanted > 0) {
    SetName(ifr, name);
    setting.field(*ifr) = wanted;
    if (ioctl(sock, setting.set, ifr) < 0) return setting.set_step;
  }
  SetName(ifr, name);
  if (ioctl(sock, setting.get, ifr) < 0) return setting.get_step;
  *value = setting.field(*ifr);
  return nullptr;
}

}  // namespace

OpenResult OpenQueue(const OpenRequest& request) {
  OpenResult result;
  // The TypeScript layer checks the length; this guard keeps the kernel from seeing a cut name.
  if (request.name.size() >= IFNAMSIZ) return Fail(result, "TUNSETIFF", EINVAL, -1, -1);

  int flags = O_RDWR | O_CLOEXEC | (request.non_blocking ? O_NONBLOCK : 0);
  int fd = open(kCloneDevice, flags);
  if (fd < 0) return Fail(result, "open", errno, -1, -1);

  struct ifreq ifr;
  SetName(&ifr, request.name);
  ifr.ifr_flags = (request.tap ? IFF_TAP : IFF_TUN) | IFF_NO_PI | (request.multi_queue ? IFF_MULTI_QUEUE : 0) | (request.offload ? IFF_VNET_HDR : 0);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) return Fail(result, "TUNSETIFF", errno, fd, -1);
  if (request.offload) {
    // Every packet both ways starts with a struct virtio_net_hdr; the kernel may hand us TCP
    // segments of up to 64 KiB with a partial checksum, and takes the same from us.
    int header_size = kVnetHeaderSize;
    if (ioctl(fd, TUNSETVNETHDRSZ, &header_size) < 0) return Fail(result, "TUNSETVNETHDRSZ", errno, fd, -1);
    // Without TSO the kernel splits TCP segments before they reach us; writes may still be GSO packets.
    // Without any (receive_checksums false) reads are complete packets with checksums, and the header
    // serves only the writes: the kernel takes GSO packets and partial checksums whatever these flags say.
    unsigned long offloads = !request.receive_checksums ? 0 : TUN_F_CSUM | (request.receive_segments ? TUN_F_TSO4 | TUN_F_TSO6 : 0);
    // Whether this kernel knows UDP segmentation offload (USO, Linux 6.2): asked with the USO flags,
    // then set without them, so that reads never bring UDP GSO packets and the written ones (the
    // transmit coalescer's) are all the USO this device sees.
    result.udp_segmentation = ioctl(fd, TUNSETOFFLOAD, offloads | kTunUso4 | kTunUso6) == 0;
    if (ioctl(fd, TUNSETOFFLOAD, offloads) < 0) return Fail(result, "TUNSETOFFLOAD", errno, fd, -1);
  }
  result.name.assign(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));

  // Interface ioctls go through any socket; an AF_INET datagram socket is the customary one.
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return Fail(result, "socket", errno, fd, -1);

  const char* failed = SetThenGet(sock, &ifr, result.name, kMtu, request.mtu, &result.mtu);
  if (failed == nullptr) failed = SetThenGet(sock, &ifr, result.name, kTxQueueLength, request.tx_queue_length, &result.tx_queue_length);
  if (failed != nullptr) return Fail(result, failed, errno, fd, sock);

  if (request.up) {
    SetName(&ifr, result.name);
    if (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0) return Fail(result, "SIOCGIFFLAGS", errno, fd, sock);
    if (!(ifr.ifr_flags & IFF_UP)) {
      ifr.ifr_flags |= IFF_UP;
      if (ioctl(sock, SIOCSIFFLAGS, &ifr) < 0) return Fail(result, "SIOCSIFFLAGS", errno, fd, sock);
    }
  }

  SetName(&ifr, result.name);
  if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0) return Fail(result, "SIOCGIFINDEX", errno, fd, sock);
  result.ifindex = ifr.ifr_ifindex;
  close(sock);

  if (request.persist >= 0 && ioctl(fd, TUNSETPERSIST, static_cast<unsigned long>(request.persist)) < 0) {
    return Fail(result, "TUNSETPERSIST", errno, fd, -1);
  }

  result.fd = fd;
  return result;
}

}  // namespace tun
