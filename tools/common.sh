# Shared by tools/test, tools/demo and tools/bench. Source it; it defines ROOT, CACHE, BAZEL.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${GRPC_BYPASS_CACHE:-/var/cache/grpc-bypass}"
export GRPC_BYPASS_CACHE="$CACHE"

# Runs tools/setup (quietly; it is idempotent and takes seconds once done).
ensure_setup() {
  bash "$ROOT/tools/setup" --quiet
}

# bazel with a disk cache outside the clone, so that a new clone builds warm.
bazel_cmd() {
  local verb="$1"; shift
  (cd "$ROOT" && bazel "$verb" --disk_cache="$CACHE/bazel-disk" "$@")
}
