"""cc_grpc_proto: C++ Protobuf and gRPC code for one .proto, with the system protoc and
grpc_cpp_plugin (Debian's protobuf-compiler and protobuf-compiler-grpc), no downloads.

For consumers too: load("@grpc_bypass//proto:proto.bzl", "cc_grpc_proto")."""

def cc_grpc_proto(name, src, grpc = True, deps = [], visibility = None):
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    # Import paths relative to the repository's root also when it is an external one
    # (external/<name>), so that a .proto's name is the same in every workspace.
    repo = native.repository_name()
    root = "." if repo in ("@", "") else "external/" + repo.lstrip("@")
    out = "$(GENDIR)" if root == "." else "$(GENDIR)/" + root
    cmd = "protoc -I%s --cpp_out=%s " % (root, out)
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
        cmd += "--grpc_out=%s --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) " % out
    native.genrule(
        name = name + "_codegen",
        srcs = [src],
        outs = outs,
        cmd = cmd + "$(location %s)" % src,
        message = "protoc " + src,
    )
    native.cc_library(
        name = name,
        srcs = [o for o in outs if o.endswith(".cc")],
        hdrs = [o for o in outs if o.endswith(".h")],
        deps = deps + [Label("//third_party:protobuf")] + ([Label("//third_party:grpcpp")] if grpc else []),
        visibility = visibility,
    )
