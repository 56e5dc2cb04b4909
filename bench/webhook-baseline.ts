// The baseline for bench/webhook.ts: a bare fastify HTTPS server that parses the same AdmissionReview and answers
// allowed. Run: node dist/bench/webhook-baseline.js PORT CERT KEY [batched]
// `batched` sends the answers the way fleetgate does (together at the end of the event-loop turn, setImmediate), so
// the bench can also compare the work alone, with the same write pattern on both sides.
import Fastify, { type FastifyReply } from 'fastify';
import { readFileSync } from 'node:fs';

const [port, cert, key, mode] = process.argv.slice(2);
const batched = mode === 'batched';
let pending: { reply: FastifyReply; payload: unknown }[] = [];
const flush = () => {
  const batch = pending;
  pending = [];
  for (const { reply, payload } of batch) reply.send(payload);
};
const app = Fastify({ https: { cert: readFileSync(cert), key: readFileSync(key), minVersion: 'TLSv1.2' }, bodyLimit: 3 * 1024 * 1024 });
app.post('/validate', batched
  ? (request, reply) => {
      const uid = (request.body as { request: { uid: string } }).request.uid;
      if (pending.push({ reply, payload: { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } } }) === 1) setImmediate(flush);
    }
  : async (request) => {
      const uid = (request.body as { request: { uid: string } }).request.uid;
      return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid, allowed: true } };
    });
app.get('/healthz', async () => 'ok\n');
await app.listen({ port: Number(port), host: '127.0.0.1' });
process.stdout.write('listening\n');
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
