// The watch's StatefulSet (charts/fleetgate/templates/watch-statefulset.yaml) with a history store: the URL comes
// from a Secret as the scan's does, and the container's script passes --history, --history-interval and
// --history-keep only when that Secret is named. The script is run for real with sh, a `node` on PATH that prints
// what it was asked to run.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { tools } from '../../scripts/tools.mjs';

const chart = join(import.meta.dirname, '..', '..', 'charts', 'fleetgate');

type Container = { name: string; args: string[]; env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[] };

function watchContainer(values: string[]): Container {
  const out = execFileSync(tools().helm, ['template', 'fleetgate', chart, '--namespace', 'fleetgate-system', '--set', 'watch.enabled=true', '--set', 'watch.configRepo.gitSync.repo=https://git.example/r.git', ...values], { encoding: 'utf8' });
  const sts = parseAllDocuments(out)
    .map((d) => d.toJSON())
    .find((o) => o?.kind === 'StatefulSet');
  return sts.spec.template.spec.containers.find((c: Container) => c.name === 'watch');
}

/** Runs the container's script with these variables; returns the arguments `node` got. */
function runScript(c: Container, env: Record<string, string>): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-watch-chart-'));
  try {
    writeFileSync(join(dir, 'node'), '#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n');
    chmodSync(join(dir, 'node'), 0o755);
    writeFileSync(join(dir, 'fleet.yaml'), 'clusters: []\n');
    const out = execFileSync('/bin/sh', ['-c', c.args[0]], { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin`, POD_NAME: 'fleetgate-watch-2', SHARDS: '4', FLEET_FILE: join(dir, 'fleet.yaml'), ...env } });
    return out.trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('no history store by default: the watch runs without --history', async (t) => {
  const c = watchContainer([]);
  t.notOk(c.env.some((e) => e.name === 'FLEETGATE_HISTORY'), 'no URL variable');
  const args = runScript(c, {});
  t.notOk(args.includes('--history'), 'no --history');
  t.same(args.slice(args.indexOf('--shard'), args.indexOf('--shard') + 2), ['--shard', '2/4'], 'the ordinal is the shard');
});

t.test('watch.history.urlSecret.name: the URL from that Secret, the interval and retention passed on', async (t) => {
  const c = watchContainer(['-f', join(chart, 'ci', 'watch-values.yaml')]);
  const url = c.env.find((e) => e.name === 'FLEETGATE_HISTORY');
  t.same(url?.valueFrom?.secretKeyRef, { name: 'fleetgate-history-db', key: 'url' }, 'from the Secret, never in the manifest');
  t.equal(c.env.find((e) => e.name === 'HISTORY_INTERVAL')?.value, '15m');
  t.equal(c.env.find((e) => e.name === 'HISTORY_KEEP')?.value, '90d');
  const env = Object.fromEntries(c.env.filter((e) => e.name.startsWith('HISTORY_')).map((e) => [e.name, e.value!]));
  const args = runScript(c, { ...env, FLEETGATE_HISTORY: 'postgres://u:p w@db:5432/fleet' });
  const at = args.indexOf('--history');
  t.same(args.slice(at, at + 6), ['--history', 'postgres://u:p w@db:5432/fleet', '--history-interval', '15m', '--history-keep', '90d'], 'one argument each, even with a space in the URL');
  t.equal(args[args.indexOf('--shard') + 1], '2/4', 'still its shard');
});

t.test('the V8 heap: watch.maxOldSpaceSizeMb and watch.maxSemiSpaceSizeMb reach node, before the script', async (t) => {
  const byDefault = runScript(watchContainer([]), {});
  const script = byDefault.indexOf('/app/bin/fleetgate');
  t.ok(script > 0, 'node runs the CLI');
  t.same(byDefault.slice(0, script), ['--max-old-space-size=1152', '--max-semi-space-size=16'], 'the defaults of values.yaml, as node flags');
  const set = runScript(watchContainer(['--set', 'watch.maxOldSpaceSizeMb=768', '--set', 'watch.maxSemiSpaceSizeMb=64']), {});
  t.same(set.slice(0, set.indexOf('/app/bin/fleetgate')), ['--max-old-space-size=768', '--max-semi-space-size=64'], 'both overridable');
});
