// Calls regbus from Node.js with a client generated from the .proto files at run time.
//   npm install @grpc/grpc-js @grpc/proto-loader
//   node client.js [HOST:PORT] [IIN]
const path = require("path");
const grpc = require("@grpc/grpc-js");
const protoLoader = require("@grpc/proto-loader");

const contracts = path.resolve(__dirname, "../../../contracts");
const definition = protoLoader.loadSync("regbus/v1/bus.proto", {
  includeDirs: [contracts],
  keepCase: true,
  enums: String,
  longs: String,
  defaults: false,
});
const regbus = grpc.loadPackageDefinition(definition).regbus.v1;

const target = process.argv[2] || "127.0.0.1:50051";
const iin = process.argv[3] || "850314354052";
const client = new regbus.RegistryBus(target, grpc.credentials.createInsecure());
const request = {
  registry: "gbdfl",
  operation: "get_person",
  params: { iin },
  // Who asks and why: required. The bus knows the client from the connection (a client
  // certificate: grpc.credentials.createSsl(ca, key, cert); on a demo bus, "demo").
  context: { operator_id: "node-example", purpose: "demo" },
};

client.Query(request, { deadline: Date.now() + 10000 }, (err, response) => {
  if (err) {
    console.error(`${grpc.status[err.code]}: ${err.details}`);
    process.exit(1);
  }
  const p = response.record.person;
  console.log(`${p.first_name} ${p.last_name}, born ${p.birth_date.year}-${p.birth_date.month}-${p.birth_date.day} (${response.source.registry}, ${response.source.attempts} attempt)`);
});
