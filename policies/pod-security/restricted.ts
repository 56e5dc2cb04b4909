import { definePolicy } from '../../src/index.js';
import type { ContainerView, Policy } from '../../src/index.js';
import { deployment, pod, restrictedPod } from './examples.js';
import { isWindows, pssAction, q, RESTRICTED, upstream } from './level.js';

/**
 * The checks the restricted level adds to baseline (policy version v1.37), one policy per upstream check.
 * The restricted level runs every pss.baseline.* check too. Several restricted checks exempt pods with
 * spec.os.name: windows (since v1.25), as upstream does.
 */

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
const restrictedVolumes = definePolicy({
  ...RESTRICTED,
  id: 'pss.restricted.restricted-volumes',
  title: 'Pods use only the restricted volume types',
  description:
    'Volumes may only be configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (or image); node-level and in-tree network volume types are not allowed.' +
    upstream('restrictedVolumes', 'restricted'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'restricted'),
  validate({ pod, report }) {
    for (const v of pod.volumes()) {
      const spec = v.spec as unknown as Record<string, unknown>; // read by source name: the list is data
      for (const type of RESTRICTED_VOLUME_TYPES) {
        if (spec[type] != null) report(`restricted volume types (volume ${q(v.name)} uses restricted volume type ${q(type)})`, v.path(type));
      }
    }
  },
  examples: {
    pass: [restrictedPod({ volumes: [{ name: 'config', configMap: { name: 'web' } }, { name: 'tmp', emptyDir: {} }] })],
    fail: [restrictedPod({ volumes: [{ name: 'share', nfs: { server: 'nfs.example', path: '/export' } }] })],
  },
});

const allowPrivilegeEscalation = definePolicy({
  ...RESTRICTED,
  id: 'pss.restricted.allow-privilege-escalation',
  title: 'Containers forbid privilege escalation',
  description:
    'Every container must set securityContext.allowPrivilegeEscalation: false (Windows pods are exempt).' + upstream('allowPrivilegeEscalation', 'restricted'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'restricted'),
  validate({ pod, report }) {
    if (isWindows(pod)) return;
    for (const c of pod.containers()) {
      if (c.securityContext?.allowPrivilegeEscalation !== false)
        report(
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

const capabilities = definePolicy({
  ...RESTRICTED,
  id: 'pss.restricted.capabilities',
  title: 'Containers drop ALL capabilities and add at most NET_BIND_SERVICE',
  description:
    'Every container must set securityContext.capabilities.drop to include "ALL" and may add only "NET_BIND_SERVICE" (Windows pods are exempt).' +
    upstream('capabilities_restricted', 'restricted'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'restricted'),
  validate({ pod, report }) {
    if (isWindows(pod)) return;
    for (const c of pod.containers()) {
      const caps = c.securityContext?.capabilities;
      const drop: unknown = caps?.drop;
      if (!Array.isArray(drop) || !drop.includes('ALL'))
        report(
          `unrestricted capabilities (container ${q(c.name)} must set securityContext.capabilities.drop=["ALL"])`,
          c.path('securityContext.capabilities.drop'),
        );
      const add: unknown = caps?.add;
      if (Array.isArray(add))
        add.forEach((cap: unknown, i) => {
          if (cap !== 'NET_BIND_SERVICE')
            report(
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

const procMount = definePolicy({
  ...RESTRICTED,
  id: 'pss.restricted.proc-mount',
  title: 'Containers keep the default /proc mask, even in a user namespace',
  description: 'securityContext.procMount must be unset or Default, whatever spec.hostUsers says.' + upstream('procMount_restricted', 'restricted'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'restricted'),
  validate({ pod, report }) {
    for (const c of pod.containers()) {
      const pm = c.securityContext?.procMount;
      if (pm !== undefined && pm !== null && pm !== 'Default')
        report(`procMount (container ${q(c.name)} must not set securityContext.procMount to ${q(pm)})`, c.path('securityContext.procMount'));
    }
  },
  examples: {
    pass: [restrictedPod({ hostUsers: false }, { procMount: 'Default' })],
    fail: [restrictedPod({ hostUsers: false }, { procMount: 'Unmasked' })],
  },
});

const ALLOWED_SECCOMP: ReadonlySet<unknown> = new Set(['RuntimeDefault', 'Localhost']);

const seccomp = definePolicy({
  ...RESTRICTED,
  id: 'pss.restricted.seccomp-profile',
  title: 'Pods run with a RuntimeDefault or Localhost seccomp profile',
  description:
    'securityContext.seccompProfile.type must be RuntimeDefault or Localhost, set on the pod or on every container; a container setting another type fails (Windows pods are exempt).' +
    upstream('seccompProfile_restricted', 'restricted'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'restricted'),
  validate({ pod, report }) {
    if (isWindows(pod)) return;
    const podProfile = pod.securityContext?.seccompProfile;
    let podSet = false;
    if (podProfile != null) {
      if (ALLOWED_SECCOMP.has(podProfile.type)) podSet = true;
      else
        report(
          `seccompProfile (pod must not set securityContext.seccompProfile.type to ${q(podProfile.type ?? '')})`,
          pod.path('securityContext.seccompProfile.type'),
        );
    }
    // containers that set no profile, reported together when none does (upstream's wording)
    const containers = pod.containers();
    let unset: ContainerView[] | undefined;
    for (const c of containers) {
      const profile = c.securityContext?.seccompProfile;
      if (profile == null) {
        if (!podSet) (unset ??= []).push(c);
      } else if (!ALLOWED_SECCOMP.has(profile.type)) {
        report(
          `seccompProfile (container ${q(c.name)} must not set securityContext.seccompProfile.type to ${q(profile.type ?? '')})`,
          c.path('securityContext.seccompProfile.type'),
        );
      }
    }
    if (!unset) return;
    if (unset.length === containers.length && podProfile == null)
      report(
        `seccompProfile (pod or ${unset.length === 1 ? 'container' : 'containers'} ${names(unset.map((c) => c.name))} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`,
        pod.path('securityContext.seccompProfile.type'),
      );
    else
      for (const c of unset)
        report(`seccompProfile (pod or container ${q(c.name)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`, c.path('securityContext.seccompProfile.type'));
  },
  examples: {
    pass: [restrictedPod(), restrictedPod({}, { seccompProfile: { type: 'Localhost', localhostProfile: 'web.json' } }, { seccompProfile: undefined })],
    fail: [restrictedPod({}, {}, { seccompProfile: undefined }), restrictedPod({}, { seccompProfile: { type: 'Unconfined' } })],
  },
});

const runAsNonRoot = definePolicy({
  ...RESTRICTED,
  id: 'pss.restricted.run-as-non-root',
  title: 'Containers run as non-root',
  description:
    'securityContext.runAsNonRoot must be true on the pod (and not false on any container) or true on every container.' + upstream('runAsNonRoot', 'restricted'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'restricted'),
  validate({ pod, report }) {
    const podValue = pod.securityContext?.runAsNonRoot;
    if (podValue === false)
      report('runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)', pod.path('securityContext.runAsNonRoot'));
    const podSet = podValue === true;
    const containers = pod.containers();
    let unset: ContainerView[] | undefined;
    for (const c of containers) {
      const v = c.securityContext?.runAsNonRoot;
      if (v === false)
        report(`runAsNonRoot != true (container ${q(c.name)} must not set securityContext.runAsNonRoot=false)`, c.path('securityContext.runAsNonRoot'));
      else if (v !== true && !podSet) (unset ??= []).push(c);
    }
    if (!unset) return;
    if (unset.length === containers.length && podValue === undefined)
      report(
        `runAsNonRoot != true (pod or ${unset.length === 1 ? 'container' : 'containers'} ${names(unset.map((c) => c.name))} must set securityContext.runAsNonRoot=true)`,
        pod.path('securityContext.runAsNonRoot'),
      );
    else for (const c of unset) report(`runAsNonRoot != true (pod or container ${q(c.name)} must set securityContext.runAsNonRoot=true)`, c.path('securityContext.runAsNonRoot'));
  },
  examples: {
    pass: [restrictedPod(), restrictedPod({}, { runAsNonRoot: true }, { runAsNonRoot: undefined })],
    fail: [restrictedPod({}, {}, { runAsNonRoot: undefined }), restrictedPod({}, { runAsNonRoot: false })],
  },
});

const runAsUser = definePolicy({
  ...RESTRICTED,
  id: 'pss.restricted.run-as-user',
  title: 'Containers do not run as UID 0',
  description: 'securityContext.runAsUser (pod and containers) must not be 0.' + upstream('runAsUser', 'restricted'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'restricted'),
  validate({ pod, report }) {
    if (pod.securityContext?.runAsUser === 0) report('runAsUser=0 (pod must not set runAsUser=0)', pod.path('securityContext.runAsUser'));
    for (const c of pod.containers()) {
      if (c.securityContext?.runAsUser === 0) report(`runAsUser=0 (container ${q(c.name)} must not set runAsUser=0)`, c.path('securityContext.runAsUser'));
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
