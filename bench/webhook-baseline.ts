// The baseline for bench/webhook.ts: a bare fastify HTTPS server that parses the same AdmissionReview and answers
// allowed. Run: node dist/bench/webhook-baseline.js PORT CERT KEY
import Fastify from 'fastify';
import { readFileSync } from 'node:fs';

const [port, cert, key] = process.argv.slice(2);
const app = Fastify({ https: { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' }, bodyLimit: 3 * 1024 * 1024 });
app.post('/validate', async (request) => {
  const uid = (request.body as { request: { uid: string } }).request.uid;
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } };
});
app.get('/healthz', async () => 'ok\n');
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('listening\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
