// `fleetgate lint --fleet FILE` (a spawned CLI): bad arguments, a missing fleet file. (That plain lint says it
// skipped the fleet rules is in fleet-rules.test.ts.)
import t from 'tap';
import { runCli } from '../helpers/cli.js';

t.test('bad arguments and a missing fleet file: exit 2 with a clear message', async (t) => {
  const missing = await runCli(['lint', '--fleet', 'no/such/fleet.yaml']);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /fleet file is not usable:\n\s+no\/such\/fleet\.yaml: cannot read fleet file: ENOENT/);
  const paths = await runCli(['lint', '--fleet', 'examples/fleet/fleet.yaml', 'examples/manifests']);
  t.equal(paths.code, 2);
  t.match(paths.stderr, /no PATH is given/);
  const labels = await runCli(['lint', '--fleet', 'examples/fleet/fleet.yaml', '--cluster-label', 'region=europe']);
  t.equal(labels.code, 2);
  t.match(labels.stderr, /--cluster-label is not used with --fleet/);
  const help = await runCli(['lint', '--help']);
  t.match(help.stdout, /--fleet FILE\s+lint the desired state of every cluster/);
});
