"""cc_grpc_proto: C++ Protobuf and gRPC code for one .proto, with the system protoc and
grpc_cpp_plugin (Debian's protobuf-compiler and protobuf-compiler-grpc), no downloads."""

def cc_grpc_proto(name, src, grpc = True, deps = [], visibility = None):
    base = src[:-len(".proto")]
    outs = [base + ".pb.h", base + ".pb.cc"]
    cmd = "protoc -I. --cpp_out=$(GENDIR) "
    if grpc:
        outs += [base + ".grpc.pb.h", base + ".grpc.pb.cc"]
        cmd += "--grpc_out=$(GENDIR) --plugin=protoc-gen-grpc=$$(command -v grpc_cpp_plugin) "
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
        deps = deps + ["//third_party:protobuf"] + (["//third_party:grpcpp"] if grpc else []),
        visibility = visibility,
    )
