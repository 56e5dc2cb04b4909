// API clients (kubectl users) get the failing policy's id and a generic message, never the policy's thrown text,
// which may hold file paths, internal state or data; operators find the details in the webhook's log and metrics.
import t from 'tap';
import { asyncEvaluator, review, startServer, testPolicy } from '../helpers/webhook.js';
import { inProcessEvaluator } from '../../src/engine/index.js';

const INTERNAL = `ENOENT: no such file or directory, open '${process.cwd()}/policies/secret-table.json' (token=planted-internal-4e1d)`;
const leaky = (action: 'deny' | 'warn') =>
  testPolicy(`test.leaky-${action}`, action, ['ConfigMap'], () => {
    throw new Error(INTERNAL);
  });
const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'shop' }, data: { a: '1' } };

function clean(t: { notOk(v: unknown, m: string): void }, text: string, what: string): void {
  t.notOk(text.includes(process.cwd()), `${what}: no working directory`);
  t.notOk(text.includes('planted-internal-4e1d'), `${what}: no internal text`);
  t.notOk(text.includes('ENOENT'), `${what}: no error text`);
}

t.test('a throwing policy: the client sees its id and a generic reason, with failurePolicy closed and open', async (t) => {
  for (const failurePolicy of ['closed', 'open'] as const) {
    const s = await startServer({ policies: [leaky('deny'), leaky('warn')], config: { failurePolicy } });
    const r = await s.post(review(cm, { uid: `leak-${failurePolicy}` }));
    await s.close();
    const body = JSON.stringify(r.json);
    clean(t, body, `failurePolicy ${failurePolicy}`);
    t.match(body, /test\.leaky-deny/);
    t.match(body, /test\.leaky-warn/);
    t.match(body, /could not be evaluated/);
    if (failurePolicy === 'closed') t.equal(r.json.response.allowed, false);
    else t.equal(r.json.response.allowed, true);
  }
});

t.test('an evaluator that rejects with internal text: the client gets a generic message', async (t) => {
  for (const failurePolicy of ['closed', 'open'] as const) {
    const s = await startServer({
      policies: [leaky('deny')],
      evaluator: (policies, cluster) => asyncEvaluator(inProcessEvaluator(policies, cluster), async () => Promise.reject(new Error(INTERNAL))),
      config: { failurePolicy },
    });
    const r = await s.post(review(cm));
    await s.close();
    // the evaluator's own failures ("worker died") are told, but never with a path of the server's file system
    t.notOk(JSON.stringify(r.json).includes(process.cwd()), `evaluator rejection, failurePolicy ${failurePolicy}: no working directory`);
    t.notOk(JSON.stringify(r.json).includes('/policies/secret-table.json'), 'no path');
    t.match(JSON.stringify(r.json), /fleetgate could not judge this request/);
  }
});
