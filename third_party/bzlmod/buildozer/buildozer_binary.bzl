"""Stand-in for buildozer's `buildozer_binary` extension, which Bazel's bazel_tools uses for
`bazel mod tidy` only: an empty @buildozer_binary, so that `bazel mod` commands (graph,
show_repo, deps) evaluate. There is no buildozer here (`bazel mod tidy` is not available)."""

def _empty_repository_impl(rctx):
    rctx.file("BUILD.bazel", "# Offline stand-in: no buildozer binary (third_party/bzlmod/buildozer).\n")

_empty_repository = repository_rule(implementation = _empty_repository_impl)

def _buildozer_binary_impl(_module_ctx):
    _empty_repository(name = "buildozer_binary")

buildozer_binary = module_extension(implementation = _buildozer_binary_impl)
