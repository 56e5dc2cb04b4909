import type { Blocker, FindingsHistory } from './gates.js';

/**
 * Gate evidence over the soak window from the history store that scans and the watch write (`--history URL`):
 * every finding any run since the stage was reached saw on its clusters, not only what they show now — one bad night
 * in the soak counts. A cluster the window cannot vouch for (no run recorded it, or a run could not judge it) blocks.
 * The history module (and its database driver) is loaded only when asked for.
 */
export async function historyEvidence(url: string): Promise<{ evidence: FindingsHistory; close(): Promise<void> }> {
  const { openHistory, findingsSince } = await import('../history/index.js');
  const history = await openHistory(url, { mustExist: true });
  const evidence: FindingsHistory = async (clusters, policies, since) => {
    const window = await findingsSince(history.store, clusters, since);
    const out: Blocker[] = window.unknown.map((u) => ({ kind: 'unknown', cluster: u.cluster, message: `no evidence in the history store: ${u.reason}` }));
    for (const f of window.findings) if (policies(f.policy)) out.push({ kind: 'finding', cluster: f.cluster, policy: f.policy, resource: f.resource, message: `${f.message} (seen in the soak window)` });
    return out;
  };
  return { evidence, close: () => history.close() };
}
