"""Our patches to lwIP 2.1.3, applied in this order on top of Debian's (see patches/).

Label(...) so that they resolve inside grpc-bypass also when it is an external repository."""

LWIP_PATCHES = [
    # etharp_input read an ARP header from frames shorter than one (found by tests/fuzz).
    Label("//third_party/lwip:patches/0001-etharp-drop-short-arp.patch"),
    # A SYN to a listener whose backlog is full of half-open connections evicts the oldest
    # instead of being dropped, so a SYN flood cannot lock real clients out (tests/integration
    # flood_tap_test: a new client waited 20 s without it).
    Label("//third_party/lwip:patches/0002-tcp-syn-flood-evicts-oldest-half-open.patch"),
    # tcp_parseopt read the length byte of an option whose kind is the last option byte: one
    # byte past the TCP header (seed tcp_option_past_header; corpus_replay_test under ASan).
    Label("//third_party/lwip:patches/0003-tcp-option-kind-without-length.patch"),
    # nd6_input accepted a link-layer address option of length 0 in NA/NS and copied the
    # address from past the packet (found by tests/fuzz; lwIP 2.2.0 reworked this parsing).
    Label("//third_party/lwip:patches/0004-nd6-lladdr-option-length-zero.patch"),
    # ip6_input read an extension header's next-header and length bytes past the packet when
    # fewer than 8 bytes were left (found by tests/fuzz).
    Label("//third_party/lwip:patches/0005-ip6-extension-header-too-short.patch"),
    # ip6_input read the length byte of a hop-by-hop/destination option that starts in the
    # header's last byte, past the packet (found by tests/fuzz).
    Label("//third_party/lwip:patches/0006-ip6-option-without-length.patch"),
    # lwIP 2.2.0 (adbc5b5f, bug #56397): a SYN in SYN_RCVD never completes the handshake. A
    # SYN+ACK with data there established the connection and then counted the SYN as a data
    # byte: the first byte was cut and rcv_nxt ran one ahead. (2.1.3 already answers a SYN in
    # the later states with an ACK and drops it.)
    Label("//third_party/lwip:patches/0007-tcp-syn-in-syn-rcvd-never-establishes.patch"),
    # lwIP 2.2.1 (574bd6e5, patch #10106): a larger copy of the last out-of-sequence segment,
    # which had been trimmed to the window, replaced it untrimmed and overran the window
    # ("ooseq tcplen > rcv_wnd" abort once the hole was filled).
    Label("//third_party/lwip:patches/0008-tcp-ooseq-replace-keeps-window.patch"),
    # lwIP 2.2.0 (003d34ee, bug #51447): sequence-number comparisons without the signed
    # conversion; numbers 2^31 apart compare consistently (an ACK that far ahead is an ACK
    # for unsent data, not a duplicate that resets the fast-retransmit count).
    Label("//third_party/lwip:patches/0009-tcp-sequence-comparison.patch"),
    # lwIP 2.2.0 (35550eea, bug #59364): icmp_send_response quoted the offending packet with
    # memcpy from its first pbuf, reading past it when the packet is a chain (scattered mbufs).
    Label("//third_party/lwip:patches/0010-icmp-quote-from-pbuf-chain.patch"),
]
