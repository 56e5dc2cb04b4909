import type { KubeObject } from '../../src/index.js';
import type { Target } from './discovery.js';
import { ClusterReadError, HttpStatus } from './errors.js';
import { redactIfSecret } from './redact.js';
import type { RequestSession } from './retry.js';

/**
 * Lists every object of one resource cluster-wide, page by page (`limit` + `continue`), restarting the list when
 * the continue token expires (410 Gone). Items get the apiVersion/kind the apiserver leaves out of list items;
 * Secrets are redacted before anything else sees them.
 */

export interface ListOptions {
  /** Page size (`limit`). */
  pageSize: number;
  /** Where non-fatal outcomes (forbidden, no longer served) are told. */
  warnings: string[];
  /** Where a list answered 403 is recorded (`pods`, `deployments.apps`): a cluster where every list is forbidden fails. */
  forbidden?: string[];
}

const NOT_OBJECT_NAMES = ['null', 'number', 'string', 'list', 'boolean'] as const;

function notObjectType(item: unknown): (typeof NOT_OBJECT_NAMES)[number] | undefined {
  if (item === null) return 'null';
  if (Array.isArray(item)) return 'list';
  if (typeof item === 'number' || typeof item === 'string' || typeof item === 'boolean') return typeof item as 'number' | 'string' | 'boolean';
  return typeof item === 'object' ? undefined : 'null';
}

/** A list request that failed: 403 and 404 skip the resource with a warning, 410 restarts the list, the rest throws. */
function listFailure(err: unknown, t: Target, opts: ListOptions): 'skip' | 'gone' {
  if (!(err instanceof HttpStatus)) throw err;
  if (err.status === 403) {
    const gr = t.group ? `${t.resource}.${t.group}` : t.resource;
    opts.warnings.push(`${t.groupVersion} ${t.kind}: forbidden — the scanner's identity lacks the RBAC verb "list" on ${gr} (cluster-wide); skipped`);
    opts.forbidden?.push(gr);
    return 'skip';
  }
  if (err.status === 404) {
    opts.warnings.push(`${t.groupVersion} ${t.kind}: the server no longer serves ${t.resource} (404 on list); skipped`);
    return 'skip';
  }
  if (err.status === 410) return 'gone';
  throw err;
}

/** A page's items, typed and redacted, into `items`; items that are not objects are counted in one warning. */
function takeItems(page: unknown[], t: Target, items: KubeObject[], opts: ListOptions): void {
  const odd = new Set<string>();
  let oddCount = 0;
  for (const item of page) {
    const bad = notObjectType(item);
    if (bad) {
      odd.add(bad);
      oddCount++;
      continue;
    }
    const obj = item as KubeObject;
    obj.apiVersion = t.groupVersion;
    obj.kind = t.kind;
    items.push(redactIfSecret(obj));
  }
  if (oddCount) {
    const kinds = NOT_OBJECT_NAMES.filter((n) => odd.has(n)).join(', ');
    opts.warnings.push(`${t.groupVersion} ${t.kind}: the server sent ${oddCount} list item${oddCount === 1 ? '' : 's'} that ${oddCount === 1 ? 'is' : 'are'} not ${oddCount === 1 ? 'an object' : 'objects'} (${kinds}); ignored`);
  }
}

export async function listAll(session: RequestSession, t: Target, opts: ListOptions): Promise<KubeObject[]> {
  const limit = Math.max(1, Math.floor(opts.pageSize));
  for (let restart = 0; ; restart++) {
    const items: KubeObject[] = [];
    let token: string | undefined;
    let gone = false;
    for (let page = 0; ; page++) {
      if (page > 1_000_000) throw new ClusterReadError(`listing ${t.label} did not end after a million pages`, 'error');
      const q = `?limit=${limit}` + (token ? `&continue=${encodeURIComponent(token)}` : '');
      let doc: unknown;
      try {
        doc = await session.getJson(t.path + q, `listing ${t.label}`);
      } catch (err) {
        const outcome = listFailure(err, t, opts);
        if (outcome === 'skip') return [];
        gone = true;
        break;
      }
      const list = doc as { items?: unknown; metadata?: { continue?: unknown } };
      if (!list || typeof list !== 'object' || !Array.isArray(list.items)) {
        throw new ClusterReadError(`the server answered the list of ${t.label} with something that is not a List`, 'error');
      }
      session.stats.pages++;
      session.countObjects(list.items.length, `listing ${t.label}`);
      takeItems(list.items as unknown[], t, items, opts);
      const next = list.metadata?.continue;
      if (typeof next !== 'string' || next === '') return items;
      if (next === token) throw new ClusterReadError(`the server repeated the same continue token listing ${t.label}`, 'error');
      token = next;
    }
    if (gone) {
      if (restart >= session.retry.listRestarts) {
        throw new ClusterReadError(`listing ${t.label}: the continue token kept expiring (410 Gone); gave up after ${restart + 1} attempts at the list`, 'error');
      }
      session.stats.listRestarts++;
    }
  }
}
