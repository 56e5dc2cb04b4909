import { defineFleetPolicy } from '../../src/index.js';
import type { FleetClusterView, KubeObject } from '../../src/index.js';

const KINDS = ['fleetgate.io/PolicyException', 'fleetgate.io/PolicyRollout'] as const;

/** What must agree between clusters of one layer set: a waiver's spec, a rollout's spec and stage. */
function variant(o: KubeObject): string {
  const status = o.kind === 'PolicyRollout' && o.status && typeof o.status === 'object' ? { stage: (o.status as { stage?: unknown }).stage } : undefined;
  return JSON.stringify([o.spec ?? null, status ?? null]);
}

const exception = (name: string, reason = 'vetted'): KubeObject => ({
  apiVersion: 'fleetgate.io/v1alpha1',
  kind: 'PolicyException',
  metadata: { name, namespace: 'fleetgate-system' },
  spec: { policies: ['isolation.no-host-namespaces'], resources: [{ kind: 'DaemonSet', name: 'node-exporter' }], expires: '2027-01-31', reason },
});
const edge = (name: string, objects: KubeObject[], status: 'ok' | 'unreachable' = 'ok') => ({ name, labels: { type: 'edge' }, layers: ['base', 'overlays/cluster-type-edge'], objects, status });

export default defineFleetPolicy({
  id: 'fleet.overlay-consistency',
  title: 'Clusters that share a layer set hold the same waivers and rollout stages',
  description:
    'Clusters whose desired state is made of the same config-repo layers should be judged alike. A PolicyException or ' +
    'PolicyRollout that some of them hold live and the rest do not (or hold with another spec or stage) means a cluster ' +
    'was changed by hand: its enforcement differs from its siblings\' without the config repo saying why. The finding ' +
    'is on the odd ones out (against the variant most of the group holds), with the per-cluster action overrides that ' +
    'fleet.yaml gives them listed.',
  area: 'fleet',
  severity: 'medium',
  action: 'warn',
  scope: 'fleet',
  match: { kinds: KINDS },
  validate({ clusters, report, unknown }) {
    const groups = new Map<string, FleetClusterView[]>();
    for (const c of clusters) {
      const key = c.layers.join('\u0000');
      (groups.get(key) ?? groups.set(key, []).get(key)!).push(c);
    }
    for (const group of groups.values()) {
      if (group.length < 2) continue;
      const readable = group.filter((c) => c.status === 'ok');
      // identity → cluster → variant
      const held = new Map<string, Map<string, { object: KubeObject; variant: string }>>();
      for (const c of readable)
        for (const kind of KINDS)
          for (const o of c.inventory.list(kind)) {
            const id = `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
            (held.get(id) ?? held.set(id, new Map()).get(id)!).set(c.name, { object: o, variant: variant(o) });
          }
      for (const [id, byCluster] of held) {
        const counts = new Map<string, number>();
        for (const c of readable) {
          const v = byCluster.get(c.name)?.variant ?? 'absent';
          counts.set(v, (counts.get(v) ?? 0) + 1);
        }
        if (counts.size < 2) continue;
        const norm = [...counts].sort((a, b) => b[1] - a[1] || (a[0] === 'absent' ? -1 : 1))[0][0];
        const sample = [...byCluster.values()][0].object;
        for (const c of group.filter((x) => x.status !== 'ok')) unknown(c.name, `cannot compare ${id} with its layer set's other clusters: ${c.status}`);
        for (const c of readable) {
          const mine = byCluster.get(c.name);
          if ((mine?.variant ?? 'absent') === norm) continue;
          const overrides = Object.entries(c.actions).filter(([, a]) => a.from === 'override').map(([p, a]) => `${p}=${a.action}`);
          const why = overrides.length ? `; fleet.yaml overrides for ${c.name}: ${overrides.join(', ')}` : '';
          const siblings = readable.filter((x) => (byCluster.get(x.name)?.variant ?? 'absent') === norm).map((x) => x.name);
          const what = !mine ? `lacks ${id}, which ${siblings.join(', ')} hold` : norm === 'absent' ? `holds ${id}, which ${siblings.join(', ')} do not` : `holds ${id} with another spec or stage than ${siblings.join(', ')}`;
          report(c.name, mine?.object ?? sample, `${c.name} ${what} (same layers: ${c.layers.join(', ')})${why}`);
        }
      }
    }
  },
  examples: {
    pass: [
      { clusters: [edge('par01', [exception('node-exporter')]), edge('ams01', [exception('node-exporter')])] },
      { name: 'different layer sets may differ', clusters: [edge('par01', [exception('node-exporter')]), { ...edge('fra01', []), layers: ['base'] }] },
    ],
    fail: [
      { name: 'a waiver added by hand', clusters: [edge('par01', [exception('node-exporter')]), edge('ams01', []), edge('sin01', [])] },
      { name: 'a waiver changed by hand', clusters: [edge('par01', [exception('node-exporter')]), edge('ams01', [exception('node-exporter')]), edge('sin01', [exception('node-exporter', 'because')])] },
    ],
  },
});
