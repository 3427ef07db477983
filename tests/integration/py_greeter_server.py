#!/usr/bin/python3
"""A helloworld.Greeter server in Debian's python3-grpcio (kernel sockets).
  py_greeter_server.py ADDRESS:PORT      prints 'serving' when ready, runs until killed
"""
import sys
import time
from concurrent import futures

import grpc

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from py_greeter import dec, enc  # noqa: E402


def say_hello(request, context):
    return enc(b"Hello " + dec(request))


def main():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    handler = grpc.method_handlers_generic_handler("helloworld.Greeter", {
        "SayHello": grpc.unary_unary_rpc_method_handler(
            say_hello, request_deserializer=lambda x: x, response_serializer=lambda x: x)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(sys.argv[1])
    server.start()
    print("serving", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
