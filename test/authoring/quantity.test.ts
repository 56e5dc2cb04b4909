import t from 'tap';
import { compareQuantities, isQuantity, parseQuantity, tryParseQuantity, QuantityError } from '../../src/authoring/quantity.js';

t.test('parses every quantity form Kubernetes accepts', async (t) => {
  const cases: [string | number, number][] = [
    ['500m', 0.5],
    ['1', 1],
    ['1.5', 1.5],
    ['.5', 0.5],
    ['2Gi', 2 * 1024 ** 3],
    ['128974848', 128974848],
    ['129e6', 129e6],
    ['1e3', 1000],
    ['1E3', 1000],
    ['123Mi', 123 * 1024 ** 2],
    ['1Ki', 1024],
    ['1k', 1000],
    ['1M', 1e6],
    ['1G', 1e9],
    ['1E', 1e18],
    ['100n', 100e-9],
    ['250u', 250e-6],
    ['+2', 2],
    ['-1', -1],
    [4, 4],
  ];
  for (const [input, want] of cases) t.ok(Math.abs(parseQuantity(input) - want) <= Math.abs(want) * 1e-12, `${input} = ${want}`);
});

t.test('rejects what is not a quantity', async (t) => {
  for (const bad of ['', 'abc', '1.2.3', '5 Gi', '1gi', '1Kb', 'Gi', '--1', '1e', NaN]) {
    t.throws(() => parseQuantity(bad as string), QuantityError, `rejects ${JSON.stringify(bad)}`);
    t.equal(tryParseQuantity(bad), undefined);
  }
  t.equal(tryParseQuantity({}), undefined);
});

t.test('compares across suffixes', async (t) => {
  t.equal(compareQuantities('500m', '0.5'), 0);
  t.equal(compareQuantities('1Gi', '1G'), 1);
  t.equal(compareQuantities('1000Mi', '1Gi'), -1);
  t.equal(compareQuantities('1e3', '1k'), 0);
  t.equal(compareQuantities('0.1', '100m'), 0, 'floating-point noise is absorbed');
  t.equal(compareQuantities('2', '1500m'), 1);
});

t.test('isQuantity accepts exactly what parseQuantity accepts', async (t) => {
  const inputs: unknown[] = ['500m', '128Mi', ' 1Gi ', '1e3', '1E', '1E3', '1e', '1e+', '1e-3', '1.', '.5', '.', '+.5', '-', '', 'abc', '5 Gi', '1Kb', '1Ki', '1ki', '1Mi ', '1.5Gi', '2Ei', '1i', 4, NaN, Infinity, null, {}];
  for (const input of inputs) t.equal(isQuantity(input), tryParseQuantity(input) !== undefined, JSON.stringify(input));
  // And on every string of up to four characters from the grammar's alphabet (plus a few strangers).
  const alphabet = ['1', '0', '.', '+', '-', 'e', 'E', 'i', 'K', 'M', 'm', 'n', 'x', ' '];
  let disagreements = 0;
  let checked = 0;
  const visit = (s: string) => {
    checked++;
    if (isQuantity(s) !== (tryParseQuantity(s) !== undefined)) disagreements++;
    if (s.length < 4) for (const ch of alphabet) visit(s + ch);
  };
  visit('');
  t.equal(disagreements, 0, `${checked} generated strings`);
});
