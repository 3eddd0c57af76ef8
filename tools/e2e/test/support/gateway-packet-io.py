#!/usr/bin/env python3
# Packet I/O on the kernel side of a TUN interface, for replaying graybox cases against the real
# gateway: every request on stdin is one JSON line {"send": [hex, ...], "expect": n, "waitMs": ms}.
# The packets are sent out of the interface with an AF_PACKET socket, which hands them to the TUN
# reader (the gateway) without routing, so no hop limit changes; then what the gateway writes back
# (the kernel sees it arrive on the interface) is collected until `expect` packets came and a short
# settle passed for any extra ones, or waitMs ran out, and answered as {"received": [hex, ...]}.
# Usage: gateway-packet-io.py INTERFACE   (inside the gateway's network namespace, as root)
import json
import select
import socket
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4


def main() -> None:
    interface = sys.argv[1]
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    capture.bind((interface, 0))
    capture.setblocking(False)
    sender = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM)
    print(json.dumps({"ready": interface}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        drain(capture)
        for packet in (bytes.fromhex(text) for text in request["send"]):
            protocol = ETH_P_IPV6 if packet[0] >> 4 == 6 else ETH_P_IP
            sender.sendto(packet, (interface, protocol))
        received = collect(capture, request.get("expect", 0), request.get("waitMs", 2000) / 1000)
        print(json.dumps({"received": [packet.hex() for packet in received]}), flush=True)


def drain(capture: socket.socket) -> None:
    while True:
        try:
            capture.recvfrom(70000)
        except BlockingIOError:
            return


SETTLE_SECONDS = 0.05


def collect(capture: socket.socket, expect: int, seconds: float) -> list:
    deadline = time.monotonic() + seconds
    received = []
    while True:
        if expect > 0 and len(received) >= expect:
            # Everything expected is here: wait a little longer only to catch unexpected extras.
            deadline = min(deadline, time.monotonic() + SETTLE_SECONDS)
            expect = 0
        left = deadline - time.monotonic()
        if left <= 0:
            return received
        ready, _, _ = select.select([capture], [], [], left)
        if not ready:
            continue
        while True:
            try:
                packet, address = capture.recvfrom(70000)
            except BlockingIOError:
                break
            # Our own injections show up as outgoing; only what the gateway wrote counts.
            if address[2] != PACKET_OUTGOING:
                received.append(packet)


if __name__ == "__main__":
    main()
