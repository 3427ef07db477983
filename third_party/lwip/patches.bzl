"""Our patches to lwIP 2.2.1 (Debian 13's source package), applied in this order on top of
Debian's (see patches/). Each is for a remote bug that 2.2.1 still has; tests/fuzz holds the
frame that shows it. Patches 0007-0010 of the 2.1.3 days were fixed upstream in 2.2.0/2.2.1 and
are gone; their frame tests stay in tests/fuzz/lwip_fixes_test.cc.

Label(...) so that they resolve inside grpc-bypass also when it is an external repository."""

LWIP_PATCHES = [
    # etharp_input read an ARP header from frames shorter than one (found by tests/fuzz).
    # Still in 2.2.1 and upstream master.
    Label("//third_party/lwip:patches/0001-etharp-drop-short-arp.patch"),
    # A SYN to a listener whose backlog is full of half-open connections evicts the oldest
    # instead of being dropped, so a SYN flood cannot lock real clients out (tests/integration
    # flood_tap_test: a new client waited 20 s without it). Our policy, not an upstream bug.
    Label("//third_party/lwip:patches/0002-tcp-syn-flood-evicts-oldest-half-open.patch"),
    # tcp_parseopt read the length byte of an option whose kind is the last option byte: one
    # byte past the TCP header (seed tcp_option_past_header; corpus_replay_test under ASan).
    # Fixed upstream on master only (3d896ba0, 2026), in no release.
    Label("//third_party/lwip:patches/0003-tcp-option-kind-without-length.patch"),
    # nd6_input accepted a link-layer address option of length 0 in NA/NS and copied the
    # address from past the packet (found by tests/fuzz). Fixed upstream on master only
    # (0a65e654 + 8e75a40a, bug #68144), in no release.
    Label("//third_party/lwip:patches/0004-nd6-lladdr-option-length-zero.patch"),
    # ip6_input read an extension header's next-header and length bytes past the packet when
    # fewer than 8 bytes were left (found by tests/fuzz). Still in 2.2.1 and master.
    Label("//third_party/lwip:patches/0005-ip6-extension-header-too-short.patch"),
    # ip6_input read the length byte of a hop-by-hop/destination option that starts in the
    # header's last byte, past the packet (found by tests/fuzz). Still in 2.2.1 and master.
    Label("//third_party/lwip:patches/0006-ip6-option-without-length.patch"),
]
