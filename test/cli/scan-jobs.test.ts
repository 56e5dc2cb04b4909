import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { generate } from '../../bench/scan.js';

/**
 * `fleetgate scan --jobs N` as a user runs it (bin/fleetgate, the built dist/): worker threads give the report of
 * `--jobs 1`, byte for byte (JSON, HTML without its time line, pretty); `--jobs` must be a positive integer; the
 * help documents it.
 */

const noTime = (html: string) => html.replace(/<p>Scanned .*?<\/p>/, '<p>Scanned</p>');

t.test('--jobs 2 and --jobs 1 write the same reports (a generated fleet of 20 clusters with its federated mesh)', async (t) => {
  const dir = t.testdir();
  await generate(20, dir);
  const fleet = join(dir, 'fleet-20.yaml');
  for (const format of ['json', 'html', 'pretty'] as const) {
    const texts: string[] = [];
    for (const jobs of ['1', '2']) {
      const out = join(dir, `report-${jobs}.${format}`);
      const r = await runCli(['scan', '--fleet', fleet, '--format', format, '--output', out, '--jobs', jobs, '--progress-interval', '600']);
      t.equal(r.code, 0, `--jobs ${jobs} --format ${format} exits 0 ${r.stderr}`);
      texts.push(await readFile(out, 'utf8'));
    }
    t.equal(format === 'html' ? noTime(texts[1]) : texts[1], format === 'html' ? noTime(texts[0]) : texts[0], `${format}: same bytes`);
    if (format === 'json') t.equal((JSON.parse(texts[0]) as { clusters: unknown[] }).clusters.length, 20);
  }
});

t.test('--jobs must be a positive integer; the help says what it does', async (t) => {
  for (const bad of ['0', 'two', '1.5']) {
    const r = await runCli(['scan', '--fleet', 'examples/fleet/fleet.yaml', '--jobs', bad]);
    t.equal(r.code, 2, `--jobs ${bad}: a usage error`);
    t.match(r.stderr, /--jobs must be a positive integer/);
  }
  const help = await runCli(['scan', '--help']);
  t.match(help.stdout + help.stderr, /--jobs N\s+judge clusters in N worker threads/);
});
