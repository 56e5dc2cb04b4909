import { definePolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { isObject } from './namespaces.js';

const RBAC = 'rbac.authorization.k8s.io/v1';
const BROAD_GROUPS = ['system:authenticated', 'system:unauthenticated', 'system:serviceaccounts'];

interface Subject {
  kind?: unknown;
  name?: unknown;
  namespace?: unknown;
}

const roleBinding = (namespace: string, subjects: Subject[], role = 'edit'): KubeObject => ({
  apiVersion: RBAC,
  kind: 'RoleBinding',
  metadata: { name: 'team-access', namespace },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects,
});

const clusterRoleBinding = (subjects: Subject[], role = 'cluster-admin'): KubeObject => ({
  apiVersion: RBAC,
  kind: 'ClusterRoleBinding',
  metadata: { name: 'admins' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects,
});

export default definePolicy({
  id: 'isolation.rbac-stays-in-namespace',
  title: 'RBAC bindings do not reach across tenant boundaries',
  description:
    'A RoleBinding grants its role inside its namespace; binding a ServiceAccount of another namespace (or the group of ' +
    'all service accounts of another namespace, `system:serviceaccounts:<ns>`) lets another tenant act here, and binding ' +
    '`system:authenticated`, `system:unauthenticated` or `system:serviceaccounts` grants it to everyone. A ClusterRoleBinding ' +
    'of `cluster-admin` to a user, a group or a ServiceAccount outside the system namespaces hands over the whole cluster. ' +
    'Bind ServiceAccounts of the same namespace or named users/groups instead. RoleBindings in system namespaces are exempt; ' +
    'the groups in `clusterAdminGroups` (default: `system:masters`, bound by Kubernetes itself) may hold cluster-admin.',
  area: 'isolation',
  severity: 'critical',
  action: 'deny',
  match: { kinds: ['rbac.authorization.k8s.io/RoleBinding', 'rbac.authorization.k8s.io/ClusterRoleBinding'] },
  params: { clusterAdminGroups: ['system:masters'] as string[] },
  validate({ object, params, report, isSystemNamespace }) {
    const subjects = Array.isArray(object.subjects) ? object.subjects : [];
    if (object.kind === 'RoleBinding') {
      const ns = object.metadata?.namespace;
      if (isSystemNamespace(ns)) return;
      const here = typeof ns === 'string' ? ns : undefined;
      subjects.forEach((s: unknown, i) => {
        if (!isObject(s)) return;
        const name = typeof s.name === 'string' ? s.name : '';
        if (s.kind === 'ServiceAccount') {
          const theirs = typeof s.namespace === 'string' && s.namespace ? s.namespace : here;
          if (here && theirs !== here)
            report(
              `RoleBinding in "${here}" binds ServiceAccount "${theirs}/${name}" of another namespace; bind a ServiceAccount of "${here}" instead`,
              ['subjects', i, 'namespace'],
            );
        } else if (s.kind === 'Group') {
          if (BROAD_GROUPS.includes(name))
            report(
              `RoleBinding in "${here ?? '?'}" binds group "${name}", which grants the role to every ${name === 'system:serviceaccounts' ? 'ServiceAccount of the cluster' : name === 'system:unauthenticated' ? 'anonymous client' : 'authenticated user and ServiceAccount'}; bind named users, groups or ServiceAccounts of "${here ?? 'this namespace'}" instead`,
              ['subjects', i, 'name'],
            );
          else if (name.startsWith('system:serviceaccounts:') && here && name.slice('system:serviceaccounts:'.length) !== here)
            report(
              `RoleBinding in "${here}" binds group "${name}", every ServiceAccount of namespace "${name.slice('system:serviceaccounts:'.length)}"; bind ServiceAccounts of "${here}" instead`,
              ['subjects', i, 'name'],
            );
        }
      });
      return;
    }
    // ClusterRoleBinding
    const ref: { kind?: unknown; name?: unknown } = isObject(object.roleRef) ? object.roleRef : {};
    if (ref.kind !== 'ClusterRole' || ref.name !== 'cluster-admin') return;
    const allowedGroups = Array.isArray(params.clusterAdminGroups) ? params.clusterAdminGroups : [];
    subjects.forEach((s: unknown, i) => {
      if (!isObject(s)) return;
      const name = typeof s.name === 'string' ? s.name : '';
      if (s.kind === 'ServiceAccount') {
        const ns = typeof s.namespace === 'string' ? s.namespace : undefined;
        if (isSystemNamespace(ns)) return;
        report(
          `ClusterRoleBinding "${object.metadata?.name ?? ''}" grants cluster-admin to ServiceAccount "${ns ?? '?'}/${name}" outside the system namespaces; bind a narrower ClusterRole, or a Role in its own namespace`,
          ['subjects', i],
        );
      } else if (s.kind === 'Group') {
        if (allowedGroups.includes(name)) return;
        if (name.startsWith('system:serviceaccounts:') && isSystemNamespace(name.slice('system:serviceaccounts:'.length))) return;
        report(
          `ClusterRoleBinding "${object.metadata?.name ?? ''}" grants cluster-admin to group "${name}"; bind a narrower ClusterRole, or grant cluster-admin only to ServiceAccounts of system namespaces`,
          ['subjects', i],
        );
      } else {
        report(
          `ClusterRoleBinding "${object.metadata?.name ?? ''}" grants cluster-admin to ${String(s.kind ?? 'subject')} "${name}"; bind a narrower ClusterRole (e.g. admin in the tenant's namespaces via RoleBindings)`,
          ['subjects', i],
        );
      }
    });
  },
  examples: {
    pass: [
      roleBinding('shop', [{ kind: 'ServiceAccount', name: 'deployer', namespace: 'shop' }]),
      roleBinding('shop', [{ kind: 'ServiceAccount', name: 'deployer' }]),
      roleBinding('shop', [
        { kind: 'User', name: 'alice@example.com', apiGroup: 'rbac.authorization.k8s.io' } as Subject,
        { kind: 'Group', name: 'system:serviceaccounts:shop' },
      ]),
      { name: 'RoleBinding in kube-system may bind other namespaces', objects: [roleBinding('kube-system', [{ kind: 'Group', name: 'system:authenticated' }])] },
      clusterRoleBinding([{ kind: 'ServiceAccount', name: 'operator', namespace: 'kube-system' }]),
      clusterRoleBinding([{ kind: 'Group', name: 'system:masters' }]),
      clusterRoleBinding([{ kind: 'User', name: 'alice@example.com' }], 'view'),
    ],
    fail: [
      roleBinding('shop', [{ kind: 'ServiceAccount', name: 'ci', namespace: 'payments' }]),
      roleBinding('shop', [{ kind: 'Group', name: 'system:serviceaccounts' }]),
      roleBinding('shop', [{ kind: 'Group', name: 'system:authenticated' }]),
      roleBinding('shop', [{ kind: 'Group', name: 'system:unauthenticated' }], 'view'),
      roleBinding('shop', [{ kind: 'Group', name: 'system:serviceaccounts:payments' }]),
      clusterRoleBinding([{ kind: 'User', name: 'alice@example.com' }]),
      clusterRoleBinding([{ kind: 'ServiceAccount', name: 'ci', namespace: 'shop' }]),
      clusterRoleBinding([{ kind: 'Group', name: 'developers' }]),
      {
        name: 'a group allowed by default is refused when the parameter is overridden',
        objects: [clusterRoleBinding([{ kind: 'Group', name: 'system:masters' }])],
        params: { clusterAdminGroups: [] },
      },
    ],
  },
});
