// Deadlines: reviews waiting for an asynchronous evaluator fail at their own deadline, through one shared timer.
import t from 'tap';
import { Deadlines } from '../../webhook/deadlines.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('each waiting review expires at its deadline unless settled first; each expires once', async (t) => {
  const d = new Deadlines();
  const expired: string[] = [];
  const now = Date.now();
  const a = d.add(now + 30, () => expired.push('a'));
  d.add(now + 10, () => expired.push('b')); // earlier than the armed timer: re-armed for it
  const c = d.add(now + 60, () => expired.push('c'));
  d.add(now + 40, () => expired.push('d'));
  t.equal(d.settle(a), true, 'answered in time');
  t.equal(d.settle(a), false, 'settled once');
  while (expired.length < 3) await sleep(10);
  await sleep(50); // a would have expired by now too
  t.same(expired, ['b', 'd', 'c'], 'in the order of their deadlines (b re-armed the timer earlier); a was answered');
  t.equal(d.settle(c), false, 'an expired review cannot be answered any more');
  t.equal(d.size, 0);
});

t.test('answers that come back in order leave nothing behind (no list growing until the timer fires)', async (t) => {
  const d = new Deadlines();
  let expired = 0;
  for (let i = 0; i < 10_000; i++) d.settle(d.add(Date.now() + 60_000, () => expired++));
  t.equal(d.size, 0);
  const open = [];
  for (let i = 0; i < 1000; i++) open.push(d.add(Date.now() + 60_000, () => expired++));
  for (const w of open.slice(0, 999)) d.settle(w);
  t.equal(d.size, 1);
  t.equal(expired, 0);
});
