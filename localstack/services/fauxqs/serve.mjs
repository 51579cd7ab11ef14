// Starts fauxqs (SQS and SNS emulator) for the local stack. Copied next to
// its node_modules by the Go services package and run on Node 22.
//   node serve.mjs <port> [dataDir]
// Without dataDir it keeps state in memory and listens on 127.0.0.1 only
// (tests); with dataDir it persists to SQLite there (make dev) — fauxqs's
// persistent mode always listens on every interface.
import { buildApp, startFauxqs } from 'fauxqs';

const [portArg, dataDir] = process.argv.slice(2);
const port = Number(portArg);
if (dataDir) {
  const server = await startFauxqs({ port, dataDir, logger: false, host: 'localhost', defaultRegion: 'us-east-1' });
  console.log(`fauxqs ready on ${server.port} (persisting to ${dataDir})`);
} else {
  const app = buildApp({ logger: false, host: 'localhost', defaultRegion: 'us-east-1' });
  await app.listen({ host: '127.0.0.1', port });
  console.log(`fauxqs ready on 127.0.0.1:${port}`);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
