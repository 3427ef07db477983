"""Our patches to lwIP 2.1.3, applied in this order on top of Debian's (see patches/)."""

LWIP_PATCHES = []
