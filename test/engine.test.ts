import t from 'tap';
import { Engine, definePolicy } from '../src/index.js';

t.test('a policy that throws becomes an error finding, not a crash', async (t) => {
  const boom = definePolicy({
    id: 'test.boom',
    title: 'throws',
    area: 'test',
    severity: 'low',
    action: 'deny',
    match: { kinds: ['ConfigMap'] },
    validate() {
      throw new Error('kaput');
    },
    examples: { pass: [{}], fail: [{}] },
  });
  const { findings } = new Engine([boom]).bind().evaluate([{ object: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } } }]);
  t.equal(findings.length, 1);
  t.equal(findings[0].error, true);
  t.match(findings[0].message, /policy error: kaput/);
});
