"""Our patches to lwIP 2.1.3, applied in this order on top of Debian's (see patches/)."""

LWIP_PATCHES = [
    # etharp_input read an ARP header from frames shorter than one (found by tests/fuzz).
    "@//third_party/lwip:patches/0001-etharp-drop-short-arp.patch",
]
