// The flag-definition module shared by the commands (issue 11): a picked flag is the shared definition itself, so
// `--param` is repeatable and `--no-builtins` a switch in every command that takes them.
import t from 'tap';
import { parseArgs } from 'node:util';
import { SHARED_FLAGS, pickFlags } from '../../src/cli/index.js';

t.test('pickFlags hands out the shared definitions, and only the named ones', async (t) => {
  const picked = pickFlags('param', 'no-builtins', 'output');
  t.same(Object.keys(picked), ['param', 'no-builtins', 'output']);
  t.equal(picked.param, SHARED_FLAGS.param, 'the same definition, not a copy');
  t.same(pickFlags(), {});
});

t.test('picked flags parse the same way as the definitions say', async (t) => {
  const { values } = parseArgs({
    args: ['--param', 'a=1', '--param', 'p:b=2', '--no-builtins', '--output', 'out.json', '--extra', 'x'],
    strict: true,
    options: { ...pickFlags('param', 'no-builtins', 'output'), extra: { type: 'string' } },
  });
  t.same(values, { param: ['a=1', 'p:b=2'], 'no-builtins': true, output: 'out.json', extra: 'x' });
  t.throws(() => parseArgs({ args: ['--policies', 'x'], strict: true, options: pickFlags('param') }), /Unknown option '--policies'/);
});
