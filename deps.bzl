"""grpc_bypass_deps(): everything grpc-bypass needs in a workspace, with no downloads.

Call it from your WORKSPACE after declaring the `grpc_bypass` repository (README, "Use it from
your own Bazel workspace"):

    load("@grpc_bypass//:deps.bzl", "grpc_bypass_deps")
    grpc_bypass_deps()

It declares:
  * @system_libs: DPDK, gRPC, Protobuf, Abseil, GoogleTest ... found with pkg-config;
  * @lwip, @grpc_src, @grpc_source_version: Debian source packages that tools/setup unpacked
    into $GRPC_BYPASS_CACHE (default /var/cache/grpc-bypass), with our patches;
  * @rules_cc, @rules_java, @remote_coverage_tools: offline stand-ins for what Bazel 4.2
    (Debian's bazel-bootstrap) would otherwise download, unless the workspace declares them.
"""

load("//third_party:system.bzl", "grpc_bypass_system_deps")

def _stub_repository_impl(ctx):
    # The stub is a directory of this repository; link its entries (WORKSPACE, BUILD, .bzl).
    src = ctx.path(ctx.attr.workspace_file).dirname
    for entry in src.readdir():
        ctx.symlink(entry, entry.basename)

_stub_repository = repository_rule(
    implementation = _stub_repository_impl,
    attrs = {"workspace_file": attr.label(mandatory = True, allow_single_file = True)},
    local = True,
)

_STUBS = {
    "rules_cc": Label("//third_party/rules_cc:WORKSPACE"),
    "rules_java": Label("//third_party/rules_java:WORKSPACE"),
    "remote_coverage_tools": Label("//third_party/remote_coverage_tools:WORKSPACE"),
}

def grpc_bypass_deps():
    for name, workspace_file in _STUBS.items():
        if not native.existing_rule(name):
            _stub_repository(name = name, workspace_file = workspace_file)
    grpc_bypass_system_deps()
