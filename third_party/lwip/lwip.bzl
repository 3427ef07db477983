"""lwip_core: lwIP's core compiled against one set of options (a cc_library with lwipopts.h)."""

def lwip_core(name, options, visibility = None):
    native.cc_library(
        name = name,
        srcs = native.glob(
            ["src/core/*.c", "src/core/ipv4/*.c", "src/core/ipv6/*.c"],
        ) + ["src/netif/ethernet.c"],
        hdrs = native.glob(["src/include/**/*.h"]),
        includes = ["src/include"],
        copts = ["-Wno-address"],
        deps = [options],
        visibility = visibility,
        linkstatic = True,
    )
