import t from 'tap';
import { pino } from 'pino';
import { ReplyBatch } from '../../webhook/reply-batch.js';

type Sent = { id: number; payload: unknown };

t.test('answers of one event-loop turn leave together, in order, after the turn', async (t) => {
  const sent: Sent[] = [];
  const reply = (id: number) => ({ send: (payload: unknown) => sent.push({ id, payload }) }) as never;
  const batch = new ReplyBatch(pino({ level: 'silent' }));
  batch.send(reply(1), 'a');
  batch.send(reply(2), 'b');
  t.same(sent, [], 'nothing is written during the turn');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(sent, [{ id: 1, payload: 'a' }, { id: 2, payload: 'b' }]);
  batch.send(reply(3), 'c');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(sent.map((s) => s.id), [1, 2, 3], 'a later turn gets its own flush');
});

t.test('a reply that throws does not hold back the rest of its batch', async (t) => {
  const lines: string[] = [];
  const logger = pino({ level: 'error' }, { write: (l: string) => lines.push(l) });
  const sent: number[] = [];
  const batch = new ReplyBatch(logger);
  batch.send({ send: () => { throw new Error('socket gone'); } } as never, 'x');
  batch.send({ send: () => sent.push(2) } as never, 'y');
  await new Promise((resolve) => setImmediate(resolve));
  t.same(sent, [2]);
  t.match(lines.join(''), /could not send a reply/);
});
