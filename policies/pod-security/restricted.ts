import type { Policy, PodView } from '../../src/index.js';
import { deployment, pod, restrictedPod } from './examples.js';
import { pssPolicy } from './level.js';

/**
 * The checks the restricted level adds to baseline (policy version v1.37), one policy per upstream check.
 * The restricted level runs every pss.baseline.* check too. Several restricted checks exempt pods with
 * spec.os.name: windows (since v1.25), as upstream does.
 */

type Obj = Record<string, unknown> | null | undefined;
const q = (s: unknown) => JSON.stringify(s);
const sc = (o: unknown): Obj => (o && typeof o === 'object' ? ((o as Record<string, unknown>).securityContext as Obj) : undefined);
const isWindows = (p: PodView) => p.os === 'windows';
const names = (list: readonly string[]) => list.map(q).join(', ');

/** Volume sources a restricted pod may not use (every in-tree source but the allowed ones). */
export const RESTRICTED_VOLUME_TYPES: readonly string[] = [
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'nfs',
  'iscsi',
  'glusterfs',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'fc',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'hostPath',
];

/** Allowed: configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (and image). */
const restrictedVolumes = pssPolicy({
  check: 'restricted-volumes',
  level: 'restricted',
  upstream: 'restrictedVolumes',
  title: 'Pods use only the restricted volume types',
  description:
    'Volumes may only be configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (or image); node-level and in-tree network volume types are not allowed.',
  severity: 'medium',
  check_(p, emit) {
    for (const v of p.volumes()) {
      const spec = v.spec as unknown as Record<string, unknown>;
      for (const type of RESTRICTED_VOLUME_TYPES) {
        if (spec[type] != null) emit(`restricted volume types (volume ${q(v.name)} uses restricted volume type ${q(type)})`, v.path(type));
      }
    }
  },
  examples: {
    pass: [restrictedPod({ volumes: [{ name: 'config', configMap: { name: 'web' } }, { name: 'tmp', emptyDir: {} }] })],
    fail: [restrictedPod({ volumes: [{ name: 'share', nfs: { server: 'nfs.example', path: '/export' } }] })],
  },
});

const allowPrivilegeEscalation = pssPolicy({
  check: 'allow-privilege-escalation',
  level: 'restricted',
  upstream: 'allowPrivilegeEscalation',
  title: 'Containers forbid privilege escalation',
  description: 'Every container must set securityContext.allowPrivilegeEscalation: false (Windows pods are exempt).',
  severity: 'medium',
  check_(p, emit) {
    if (isWindows(p)) return;
    for (const c of p.containers()) {
      if (sc(c.spec)?.allowPrivilegeEscalation !== false)
        emit(
          `allowPrivilegeEscalation != false (container ${q(c.name)} must set securityContext.allowPrivilegeEscalation=false)`,
          c.path('securityContext.allowPrivilegeEscalation'),
        );
    }
  },
  examples: {
    pass: [restrictedPod(), pod({ os: { name: 'windows' }, securityContext: { runAsNonRoot: true } })],
    fail: [restrictedPod({}, { allowPrivilegeEscalation: true }), deployment(restrictedPod({}, { allowPrivilegeEscalation: undefined }))],
  },
});

const capabilities = pssPolicy({
  check: 'capabilities',
  level: 'restricted',
  upstream: 'capabilities_restricted',
  title: 'Containers drop ALL capabilities and add at most NET_BIND_SERVICE',
  description:
    'Every container must set securityContext.capabilities.drop to include "ALL" and may add only "NET_BIND_SERVICE" (Windows pods are exempt).',
  severity: 'medium',
  check_(p, emit) {
    if (isWindows(p)) return;
    for (const c of p.containers()) {
      const caps = sc(c.spec)?.capabilities as Obj;
      const drop = caps?.drop;
      if (!Array.isArray(drop) || !drop.includes('ALL'))
        emit(
          `unrestricted capabilities (container ${q(c.name)} must set securityContext.capabilities.drop=["ALL"])`,
          c.path('securityContext.capabilities.drop'),
        );
      const add = caps?.add;
      if (Array.isArray(add))
        add.forEach((cap, i) => {
          if (cap !== 'NET_BIND_SERVICE')
            emit(
              `unrestricted capabilities (container ${q(c.name)} must not include ${q(cap)} in securityContext.capabilities.add)`,
              c.path(`securityContext.capabilities.add[${i}]`),
            );
        });
    }
  },
  examples: {
    pass: [restrictedPod({}, { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } })],
    fail: [restrictedPod({}, { capabilities: {} }), restrictedPod({}, { capabilities: { drop: ['ALL'], add: ['CHOWN'] } })],
  },
});

const procMount = pssPolicy({
  check: 'proc-mount',
  level: 'restricted',
  upstream: 'procMount_restricted',
  title: 'Containers keep the default /proc mask, even in a user namespace',
  description: 'securityContext.procMount must be unset or Default, whatever spec.hostUsers says.',
  severity: 'medium',
  check_(p, emit) {
    for (const c of p.containers()) {
      const pm = sc(c.spec)?.procMount;
      if (pm !== undefined && pm !== null && pm !== 'Default')
        emit(`procMount (container ${q(c.name)} must not set securityContext.procMount to ${q(pm)})`, c.path('securityContext.procMount'));
    }
  },
  examples: {
    pass: [restrictedPod({ hostUsers: false }, { procMount: 'Default' })],
    fail: [restrictedPod({ hostUsers: false }, { procMount: 'Unmasked' })],
  },
});

const ALLOWED_SECCOMP = new Set(['RuntimeDefault', 'Localhost']);

const seccomp = pssPolicy({
  check: 'seccomp-profile',
  level: 'restricted',
  upstream: 'seccompProfile_restricted',
  title: 'Pods run with a RuntimeDefault or Localhost seccomp profile',
  description:
    'securityContext.seccompProfile.type must be RuntimeDefault or Localhost, set on the pod or on every container; a container setting another type fails (Windows pods are exempt).',
  severity: 'medium',
  check_(p, emit) {
    if (isWindows(p)) return;
    const podProfile = sc(p.spec)?.seccompProfile as Obj;
    let podSet = false;
    if (podProfile != null) {
      if (ALLOWED_SECCOMP.has(podProfile.type as string)) podSet = true;
      else
        emit(
          `seccompProfile (pod must not set securityContext.seccompProfile.type to ${q(podProfile.type ?? '')})`,
          p.path('securityContext.seccompProfile.type'),
        );
    }
    const unset: string[] = [];
    const unsetPaths: (readonly (string | number)[])[] = [];
    for (const c of p.containers()) {
      const profile = sc(c.spec)?.seccompProfile as Obj;
      if (profile == null) {
        if (!podSet) {
          unset.push(c.name);
          unsetPaths.push(c.path('securityContext.seccompProfile.type'));
        }
      } else if (!ALLOWED_SECCOMP.has(profile.type as string)) {
        emit(
          `seccompProfile (container ${q(c.name)} must not set securityContext.seccompProfile.type to ${q(profile.type ?? '')})`,
          c.path('securityContext.seccompProfile.type'),
        );
      }
    }
    if (!unset.length) return;
    if (unset.length === p.containers().length && podProfile == null)
      emit(
        `seccompProfile (pod or ${unset.length === 1 ? 'container' : 'containers'} ${names(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
        p.path('securityContext.seccompProfile.type'),
      );
    else
      unset.forEach((name, i) =>
        emit(`seccompProfile (pod or container ${q(name)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`, unsetPaths[i]),
      );
  },
  examples: {
    pass: [restrictedPod(), restrictedPod({}, { seccompProfile: { type: 'Localhost', localhostProfile: 'web.json' } }, { seccompProfile: undefined })],
    fail: [restrictedPod({}, {}, { seccompProfile: undefined }), restrictedPod({}, { seccompProfile: { type: 'Unconfined' } })],
  },
});

const runAsNonRoot = pssPolicy({
  check: 'run-as-non-root',
  level: 'restricted',
  upstream: 'runAsNonRoot',
  title: 'Containers run as non-root',
  description:
    'securityContext.runAsNonRoot must be true on the pod (and not false on any container) or true on every container.',
  severity: 'medium',
  check_(p, emit) {
    const podValue = sc(p.spec)?.runAsNonRoot;
    if (podValue === false)
      emit('runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)', p.path('securityContext.runAsNonRoot'));
    const podSet = podValue === true;
    const unset: string[] = [];
    const unsetPaths: (readonly (string | number)[])[] = [];
    for (const c of p.containers()) {
      const v = sc(c.spec)?.runAsNonRoot;
      if (v === false)
        emit(`runAsNonRoot != true (container ${q(c.name)} must not set securityContext.runAsNonRoot=false)`, c.path('securityContext.runAsNonRoot'));
      else if (v !== true && !podSet) {
        unset.push(c.name);
        unsetPaths.push(c.path('securityContext.runAsNonRoot'));
      }
    }
    if (!unset.length) return;
    if (unset.length === p.containers().length && podValue === undefined)
      emit(
        `runAsNonRoot != true (pod or ${unset.length === 1 ? 'container' : 'containers'} ${names(unset)} must set securityContext.runAsNonRoot=true)`,
        p.path('securityContext.runAsNonRoot'),
      );
    else
      unset.forEach((name, i) => emit(`runAsNonRoot != true (pod or container ${q(name)} must set securityContext.runAsNonRoot=true)`, unsetPaths[i]));
  },
  examples: {
    pass: [restrictedPod(), restrictedPod({}, { runAsNonRoot: true }, { runAsNonRoot: undefined })],
    fail: [restrictedPod({}, {}, { runAsNonRoot: undefined }), restrictedPod({}, { runAsNonRoot: false })],
  },
});

const runAsUser = pssPolicy({
  check: 'run-as-user',
  level: 'restricted',
  upstream: 'runAsUser',
  title: 'Containers do not run as UID 0',
  description: 'securityContext.runAsUser (pod and containers) must not be 0.',
  severity: 'medium',
  check_(p, emit) {
    if (sc(p.spec)?.runAsUser === 0) emit('runAsUser=0 (pod must not set runAsUser=0)', p.path('securityContext.runAsUser'));
    for (const c of p.containers()) {
      if (sc(c.spec)?.runAsUser === 0) emit(`runAsUser=0 (container ${q(c.name)} must not set runAsUser=0)`, c.path('securityContext.runAsUser'));
    }
  },
  examples: {
    pass: [restrictedPod({}, { runAsUser: 1000 }, { runAsUser: 1000 })],
    fail: [restrictedPod({}, {}, { runAsUser: 0 }), restrictedPod({}, { runAsUser: 0 })],
  },
});

/** Checks the restricted level adds, in upstream's order. */
export const restrictedPolicies: Policy[] = [
  restrictedVolumes,
  allowPrivilegeEscalation,
  capabilities,
  procMount,
  seccomp,
  runAsNonRoot,
  runAsUser,
];
