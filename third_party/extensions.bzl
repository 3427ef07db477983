"""The bzlmod face of third_party/system.bzl (Bazel 7 and later; MODULE.bazel uses it).

One module extension declares the same repositories as grpc_bypass_deps() does for a
WORKSPACE: @system_libs (pkg-config), @lwip, @grpc_src and @grpc_source_version (Debian source
packages that tools/setup unpacked into $GRPC_BYPASS_CACHE)."""

load("//third_party:system.bzl", "grpc_bypass_system_deps")

def _system_impl(_module_ctx):
    grpc_bypass_system_deps()

system = module_extension(implementation = _system_impl)
