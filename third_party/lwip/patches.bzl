"""Our patches to lwIP 2.1.3, applied in this order on top of Debian's (see patches/)."""

LWIP_PATCHES = [
    # etharp_input read an ARP header from frames shorter than one (found by tests/fuzz).
    "@//third_party/lwip:patches/0001-etharp-drop-short-arp.patch",
    # A SYN to a listener whose backlog is full of half-open connections evicts the oldest
    # instead of being dropped, so a SYN flood cannot lock real clients out (tests/integration
    # flood_tap_test: a new client waited 20 s without it).
    "@//third_party/lwip:patches/0002-tcp-syn-flood-evicts-oldest-half-open.patch",
    # tcp_parseopt read the length byte of an option whose kind is the last option byte: one
    # byte past the TCP header (seed tcp_option_past_header; corpus_replay_test under ASan).
    "@//third_party/lwip:patches/0003-tcp-option-kind-without-length.patch",
    # nd6_input accepted a link-layer address option of length 0 in NA/NS and copied the
    # address from past the packet (found by tests/fuzz; lwIP 2.2.0 reworked this parsing).
    "@//third_party/lwip:patches/0004-nd6-lladdr-option-length-zero.patch",
    # ip6_input read an extension header's next-header and length bytes past the packet when
    # fewer than 8 bytes were left (found by tests/fuzz).
    "@//third_party/lwip:patches/0005-ip6-extension-header-too-short.patch",
    # ip6_input read the length byte of a hop-by-hop/destination option that starts in the
    # header's last byte, past the packet (found by tests/fuzz).
    "@//third_party/lwip:patches/0006-ip6-option-without-length.patch",
]
