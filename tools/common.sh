# Shared by tools/test, tools/demo and tools/bench. Source it; it defines ROOT, CACHE,
# ROOT_NAME and bazel_cmd.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GRPC_BYPASS_CACHE:-/var/cache/grpc-bypass}"
export GRPC_BYPASS_CACHE="$CACHE"
# Which Debian root this runs in: "host" (the machine), or the root tools/distro entered
# ("modern": gRPC 1.83, DPDK 25.11, Bazel 7).
ROOT_NAME="${GRPC_BYPASS_ROOT:-host}"

# Runs tools/setup (quietly; it is idempotent and takes seconds once done) for what runs in
# this root only: the modern root is not made (tools/test asks for it: ensure_setup_all).
# Inside a root, tools/setup only checks that the root was made from outside.
ensure_setup() {
  bash "$ROOT/tools/setup" --quiet --no-roots
}
# The same, and the modern root too (tools/test, which runs in both roots).
ensure_setup_all() {  # [--trixie]: the trixie root too
  bash "$ROOT/tools/setup" --quiet "$@"
}

# A compiler command that exists in this root: the first of the names given.
first_command() { local c; for c in "$@"; do command -v "$c" >/dev/null && { echo "$c"; return; }; done; return 1; }

# bazel with a disk cache outside the clone, so that a new clone builds warm. One disk cache
# per root: Bazel does not hash the system headers and libraries an action reads (they are
# outside the workspace), so the two roots must never share cached outputs.
bazel_cmd() {
  local verb="$1"; shift
  (cd "$ROOT" && bazel "$verb" --disk_cache="$CACHE/bazel-disk-$ROOT_NAME" "$@")
}
