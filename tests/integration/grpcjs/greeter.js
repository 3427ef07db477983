// grpc-js (@grpc/grpc-js: HTTP/2 and gRPC written in JavaScript, on Node's kernel sockets) as
// a peer of the bypass, with helloworld.proto loaded at run time (@grpc/proto-loader).
//   node greeter.js PROTO client TARGET unary NAME        one call, prints the reply
//   node greeter.js PROTO client TARGET big BYTES         a name of BYTES bytes, checked back
//   node greeter.js PROTO client TARGET concurrent N      N calls in flight at once
//   node greeter.js PROTO client TARGET deadline          a 1 ms deadline on a slow call fails
//   node greeter.js PROTO server ADDR:PORT                serves until killed; prints "serving"
// Exit status 0 when every check held; one line on stderr otherwise.
'use strict';
const grpc = require('@grpc/grpc-js');
const loader = require('@grpc/proto-loader');

const [protoPath, role, target, mode, arg] = process.argv.slice(2);
const def = loader.loadSync(protoPath, {keepCase: true});
const helloworld = grpc.loadPackageDefinition(def).helloworld;
const die = (msg) => { console.error(`greeter.js: ${msg}`); process.exit(1); };

if (role === 'server') {
  const server = new grpc.Server();
  server.addService(helloworld.Greeter.service, {
    SayHello: (call, cb) => cb(null, {message: `Hello ${call.request.name}`}),
  });
  server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) die(`bind ${target}: ${err.message}`);
    console.log(`serving on ${target}`);
  });
  process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
} else if (role === 'client') {
  const client = new helloworld.Greeter(target, grpc.credentials.createInsecure(),
                                        {'grpc.max_receive_message_length': 64 << 20});
  const deadline = (ms) => new Date(Date.now() + ms);
  const call = (name, ms = 20000) => new Promise((resolve, reject) =>
    client.SayHello({name}, {deadline: deadline(ms)}, (err, reply) => err ? reject(err) : resolve(reply.message)));
  const run = async () => {
    switch (mode) {
      case 'unary':
        console.log(await call(arg));
        break;
      case 'big': {
        const name = 'x'.repeat(Number(arg));
        const reply = await call(name, 30000);
        if (reply !== `Hello ${name}`) die(`big: reply of ${reply.length} bytes is not the request's`);
        break;
      }
      case 'concurrent': {
        const n = Number(arg);
        const replies = await Promise.all([...Array(n).keys()].map((i) => call(`c${i}`)));
        replies.forEach((r, i) => { if (r !== `Hello c${i}`) die(`concurrent: call ${i} got '${r}'`); });
        break;
      }
      case 'deadline':
        try {
          await call('x'.repeat(4 << 20), 1);
          die('deadline: a 1 ms call with 4 MiB succeeded');
        } catch (err) {
          if (err.code !== grpc.status.DEADLINE_EXCEEDED) die(`deadline: got ${err.code} ${err.details}`);
        }
        break;
      default:
        die(`unknown mode '${mode}'`);
    }
    client.close();
  };
  run().catch((err) => die(`${mode}: ${err.code} ${err.details || err.message}`));
} else {
  die(`unknown role '${role}' (client or server)`);
}
