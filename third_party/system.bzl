"""Repository rules for what comes from the system, not from the internet.

Two kinds of external repositories, both resolved when Bazel first needs them:

* `pkg_config_repository`: runs `pkg-config` on this machine and writes a BUILD file with one
  `cc_library` per library (linkopts from `--libs`) and a `defs.bzl` with each library's
  compile flags (`<NAME>_COPTS`). We use a repository rule rather than a file written by
  tools/setup so that the flags cannot go stale: the rule re-runs when Bazel's repository
  cache is cleared or when PKG_CONFIG_PATH changes.

* `debian_source_repository`: copies parts of a Debian source package that tools/setup fetched
  with `apt-get source` (Debian patches already applied) from the cache directory
  ($GRPC_BYPASS_CACHE, default /var/cache/grpc-bypass) into the repository, deletes any BUILD
  files in it, applies our own patches in order, and adds our BUILD file.
"""

load("//third_party/lwip:patches.bzl", "LWIP_PATCHES")

_DEFAULT_CACHE = "/var/cache/grpc-bypass"

def _cache_dir(ctx):
    return ctx.os.environ.get("GRPC_BYPASS_CACHE", _DEFAULT_CACHE)

def _main_repo_prefix(label):
    """The prefix that names our own repository from inside a repository we generate.

    bzlmod (Bazel 7): the canonical name, from str(Label): "@@" when we are the root module,
    "@@grpc_bypass~" (or similar) when we are a dependency. WORKSPACE (Bazel 4): "@" plus the
    workspace name ("@" alone when we are the main workspace)."""
    s = str(label)
    if s.startswith("@@"):
        return s.split("//")[0]
    return "@%s" % label.workspace_name

def _grpc_source_present(ctx):
    """Whether $CACHE/src/grpc is the source of the gRPC installed in this root.

    The cache is shared by the roots (tools/distro mounts it): the host's 1.51 source is there
    also when the modern root, with gRPC 1.83 and no source package, builds."""
    src = "%s/src/grpc" % _cache_dir(ctx)
    if not ctx.path(src + "/.grpc-bypass-ok").exists:
        return False
    cpp = ctx.read(src + "/include/grpcpp/version_info.h")
    src_ver = cpp.split('#define GRPC_CPP_VERSION_STRING "')[1].split('"')[0]
    return src_ver == _pkg_config(ctx, ["--modversion", "grpc++"])[0]

def _pkg_config(ctx, args):
    res = ctx.execute(["pkg-config"] + args)
    if res.return_code != 0:
        fail("pkg-config %s failed (run tools/setup first): %s" % (" ".join(args), res.stderr))
    return [f for f in res.stdout.strip().split(" ") if f]

def _pkg_config_repository_impl(ctx):
    build = ['package(default_visibility = ["//visibility:public"])', ""]
    defs = ['"""Compile flags from pkg-config (generated)."""', ""]
    for name, modules in ctx.attr.libs.items():
        mods = modules.split(" ")
        linkopts = _pkg_config(ctx, ["--libs"] + mods)
        # Bazel rejects -I outside the toolchain's system directories (DPDK's .pc names
        # dbus and libnl include dirs that none of its public headers need).
        cflags = [f for f in _pkg_config(ctx, ["--cflags"] + mods)
                  if not f.startswith("-I") or f.startswith("-I/usr/include")]
        build.append("cc_library(")
        build.append('    name = "%s",' % name)
        build.append("    linkopts = %s," % repr(linkopts))
        build.append(")")
        build.append("")
        defs.append("%s_COPTS = %s" % (name.upper(), repr(cflags)))
    # What the rest of the tree switches on: the gRPC and DPDK we build against, and whether
    # Debian's gRPC source package (internal headers, gRPC's conformance suite) is there
    # (tools/setup fetches it where the registry serves it: gRPC 1.51 on Debian 12, not 1.83).
    grpc_ver = _pkg_config(ctx, ["--modversion", "grpc++"])[0].split(".")
    dpdk_ver = _pkg_config(ctx, ["--modversion", "libdpdk"])[0].split(".")
    defs.append("GRPC_MINOR = %d" % int(grpc_ver[1]))
    defs.append("DPDK_MAJOR = %d" % int(dpdk_ver[0]))
    defs.append("GRPC_SOURCE = %s" % repr(_grpc_source_present(ctx)))
    # grpc-js, the JavaScript peer, where tools/make_root installed it (the modern root).
    defs.append("GRPCJS = %s" % repr(ctx.path("/opt/grpc-bypass/grpcjs/node_modules/@grpc/grpc-js/package.json").exists))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", "\n".join(build) + "\n")
    ctx.file("defs.bzl", "\n".join(defs) + "\n")

pkg_config_repository = repository_rule(
    implementation = _pkg_config_repository_impl,
    attrs = {"libs": attr.string_dict(doc = "target name -> space-separated pkg-config modules")},
    environ = ["PKG_CONFIG_PATH", "GRPC_BYPASS_CACHE"],
    local = True,
)

def _debian_source_repository_impl(ctx):
    src = "%s/src/%s" % (_cache_dir(ctx), ctx.attr.source)
    marker = ctx.path(src + "/.grpc-bypass-ok")
    prefix = _main_repo_prefix(ctx.attr.build_file) + "//"
    usable = marker.exists and (not ctx.attr.must_match_installed_grpc or _grpc_source_present(ctx))
    if ctx.attr.absent_build_file and not usable:
        # Not served for this root (gRPC 1.83's source package): the stand-in BUILD.
        ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
        ctx.template("BUILD.bazel", ctx.attr.absent_build_file, {"@//": prefix}, executable = False)
        return
    if not marker.exists:
        fail("Debian source package '%s' not found at %s: run tools/setup first" % (ctx.attr.source, src))
    for d in ctx.attr.dirs:
        res = ctx.execute(["mkdir", "-p", d.rpartition("/")[0] or "."])
        res = ctx.execute(["cp", "-r", src + "/" + d, d])
        if res.return_code != 0:
            fail("copying %s from %s failed: %s" % (d, src, res.stderr))
    ctx.execute(["find", ".", "(", "-name", "BUILD", "-o", "-name", "BUILD.bazel", "-o",
                 "-name", "WORKSPACE", ")", "-delete"])
    for r in ctx.attr.remove:
        ctx.execute(["rm", "-f", r])
    for p in ctx.attr.patches:
        patch = ctx.path(p)
        res = ctx.execute(["patch", "-p1", "--forward", "--batch", "-i", str(patch)])
        if res.return_code != 0:
            fail("patch %s does not apply to %s: %s%s" % (p, ctx.attr.source, res.stdout, res.stderr))
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    # The BUILD file names our packages as "@//...". Rewritten to our repository's own name
    # (_main_repo_prefix), so that the labels never point into a consumer's workspace.
    ctx.template("BUILD.bazel", ctx.attr.build_file, {"@//": prefix}, executable = False)
    if ctx.attr.version_file:
        ctx.template("source_version.h", ctx.attr.version_file, {}, executable = False)

debian_source_repository = repository_rule(
    implementation = _debian_source_repository_impl,
    attrs = {
        "source": attr.string(mandatory = True, doc = "folder name under $CACHE/src"),
        "dirs": attr.string_list(mandatory = True, doc = "paths to copy from the source tree"),
        "build_file": attr.label(mandatory = True, allow_single_file = True),
        "absent_build_file": attr.label(allow_single_file = True, doc = "BUILD when the source is not there"),
        "must_match_installed_grpc": attr.bool(doc = "usable only if it is the installed gRPC's source"),
        "patches": attr.label_list(allow_files = True),
        "remove": attr.string_list(doc = "files to delete after copying"),
        "version_file": attr.label(allow_single_file = True),
    },
    environ = ["GRPC_BYPASS_CACHE"],
    local = True,
)

def _grpc_source_version_impl(ctx):
    """Writes grpc_source_version.h: the versions of the gRPC whose headers we compile against.

    With Debian's gRPC source package (gRPC 1.51: the bridge uses its internal headers), the
    versions in that source; without it (gRPC 1.83: public headers only), pkg-config's
    versions of the installed grpc and grpc++ (the -dev packages' headers)."""
    src = "%s/src/grpc" % _cache_dir(ctx)
    if _grpc_source_present(ctx):
        core = ctx.read(src + "/src/core/lib/surface/version.cc")
        cpp = ctx.read(src + "/include/grpcpp/version_info.h")
        core_ver = core.split('grpc_version_string(void) { return "')[1].split('"')[0]
        cpp_ver = cpp.split('#define GRPC_CPP_VERSION_STRING "')[1].split('"')[0]
    else:
        core_ver = _pkg_config(ctx, ["--modversion", "grpc"])[0]
        cpp_ver = _pkg_config(ctx, ["--modversion", "grpc++"])[0]
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("grpc_source_version.h", "\n".join([
        "// Generated from the gRPC source package fetched by tools/setup.",
        "#pragma once",
        '#define GRPC_BYPASS_SOURCE_CORE_VERSION "%s"' % core_ver,
        '#define GRPC_BYPASS_SOURCE_CPP_VERSION "%s"' % cpp_ver,
        "",
    ]))
    ctx.file("BUILD", "\n".join([
        'package(default_visibility = ["//visibility:public"])',
        'cc_library(name = "grpc_source_version", hdrs = ["grpc_source_version.h"])',
        "",
    ]))

grpc_source_version_repository = repository_rule(
    implementation = _grpc_source_version_impl,
    environ = ["GRPC_BYPASS_CACHE", "PKG_CONFIG_PATH"],
    local = True,
)

def grpc_bypass_system_deps():
    pkg_config_repository(
        name = "system_libs",
        libs = {
            "dpdk": "libdpdk",
            "grpcpp": "grpc++ grpc gpr",
            "protobuf": "protobuf",
            "absl": " ".join(["absl_" + m for m in [
                "flags", "flags_parse", "flags_usage", "status", "statusor", "strings",
                "str_format", "synchronization", "time", "hash", "raw_hash_set",
                "random_random", "random_distributions", "cleanup", "base", "failure_signal_handler", "symbolize",
            ]]),
            "gtest": "gtest gmock",
            "gtest_main": "gtest_main",
            "benchmark": "benchmark",
            "check": "check",
        },
    )
    debian_source_repository(
        name = "lwip",
        source = "lwip-2.2.1",
        dirs = ["src", "test/unit", "test/fuzz", "COPYING"],
        build_file = Label("//third_party/lwip:lwip.BUILD"),
        patches = LWIP_PATCHES,
        # The unit tests' own lwipopts.h would shadow ours (tests/lwip_unit layers on ours).
        remove = ["test/unit/lwipopts.h"],
    )
    debian_source_repository(
        name = "grpc_src",
        source = "grpc",
        dirs = ["src/core", "include", "test/core/event_engine", "test/core/util", "LICENSE"],
        build_file = Label("//third_party/grpc_src:grpc_src.BUILD"),
        absent_build_file = Label("//third_party/grpc_src:absent.BUILD"),
        must_match_installed_grpc = True,
        # Only the addresses gRPC's conformance suite uses ([::1], which the kernel owns)
        # change: to the kernel's and our stack's addresses in the test's namespace.
        patches = [Label("//tests/conformance:patches/addresses.patch")],
    )
    grpc_source_version_repository(name = "grpc_source_version")
