import { definePolicy } from '../../src/index.js';
import type { Policy } from '../../src/index.js';
import { deployment, pod } from './examples.js';
import { BASELINE, isWindows, pssAction, q, upstream } from './level.js';

/**
 * The baseline level of the Pod Security Standards (policy version v1.37), one policy per upstream check.
 * Semantics follow kubernetes/pod-security-admission; messages are "<upstream reason> (<which container, which field>)".
 * Each is a plain definePolicy over the pod view (`pod.securityContext`, `c.securityContext`: guarded, read once per
 * pod for every check); the level labels of the namespace decide each finding's action (level.ts).
 */

/** Capabilities a baseline container may add: the container runtimes' defaults. */
export const BASELINE_CAPABILITIES: ReadonlySet<string> = new Set([
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
]);

/** Sysctls allowed at baseline, v1.37 (namespaced, isolated from other pods). */
export const ALLOWED_SYSCTLS: ReadonlySet<string> = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  // v1.27
  'net.ipv4.ip_local_reserved_ports',
  // v1.29
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  // v1.32
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  // v1.37
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
]);

/** SELinux types a baseline pod or container may set (or leave empty). */
export const ALLOWED_SELINUX_TYPES: ReadonlySet<string> = new Set([
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

const APPARMOR_ANNOTATION = 'container.apparmor.security.beta.kubernetes.io/';

const hostNamespaces = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.host-namespaces',
  title: 'Pods do not share the host network, PID or IPC namespace',
  description:
    'Sharing the host namespaces must be disallowed: spec.hostNetwork, spec.hostPID and spec.hostIPC must be unset or false.' + upstream('hostNamespaces', 'baseline'),
  severity: 'high',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    const s = pod.spec;
    if (s.hostNetwork === true) report('host namespaces (hostNetwork=true)', pod.path('hostNetwork'));
    if (s.hostPID === true) report('host namespaces (hostPID=true)', pod.path('hostPID'));
    if (s.hostIPC === true) report('host namespaces (hostIPC=true)', pod.path('hostIPC'));
  },
  examples: {
    pass: [pod(), pod({ hostNetwork: false, hostPID: false, hostIPC: false })],
    fail: [pod({ hostNetwork: true }), pod({ hostIPC: true }), deployment(pod({ hostPID: true }))],
  },
});

const privileged = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.privileged',
  title: 'Containers are not privileged',
  description:
    'Privileged containers disable most security mechanisms: securityContext.privileged must be unset or false on every container.' +
    upstream('privileged', 'baseline'),
  severity: 'critical',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    for (const c of pod.containers()) {
      if (c.securityContext?.privileged === true)
        report(`privileged (container ${q(c.name)} must not set securityContext.privileged=true)`, c.path('securityContext.privileged'));
    }
  },
  examples: {
    pass: [pod(), pod({}, { securityContext: { privileged: false } })],
    fail: [pod({}, { securityContext: { privileged: true } })],
  },
});

const capabilities = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.capabilities',
  title: 'Containers add no capabilities beyond the runtime defaults',
  description:
    `securityContext.capabilities.add may only list ${[...BASELINE_CAPABILITIES].join(', ')} (exact names, no CAP_ prefix).` +
    upstream('capabilities_baseline', 'baseline'),
  severity: 'high',
  // restricted replaces this check by pss.restricted.capabilities, which exempts Windows pods
  actionFor: (ctx) => pssAction(ctx, 'baseline', isWindows(ctx.pod)),
  validate({ pod, report }) {
    for (const c of pod.containers()) {
      const add: unknown = c.securityContext?.capabilities?.add;
      if (!Array.isArray(add)) continue;
      add.forEach((cap: unknown, i) => {
        if (typeof cap !== 'string' || !BASELINE_CAPABILITIES.has(cap))
          report(
            `non-default capabilities (container ${q(c.name)} must not include ${q(cap)} in securityContext.capabilities.add)`,
            c.path(`securityContext.capabilities.add[${i}]`),
          );
      });
    }
  },
  examples: {
    pass: [pod(), pod({}, { securityContext: { capabilities: { add: ['NET_BIND_SERVICE', 'CHOWN'] } } })],
    fail: [pod({}, { securityContext: { capabilities: { add: ['NET_ADMIN'] } } }), pod({}, { securityContext: { capabilities: { add: ['CAP_CHOWN'] } } })],
  },
});

const hostPathVolumes = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.host-path-volumes',
  title: 'Pods mount no hostPath volumes',
  description: 'hostPath volumes expose the node’s file system: spec.volumes[*].hostPath must be unset.' + upstream('hostPathVolumes', 'baseline'),
  severity: 'critical',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    for (const v of pod.volumes()) {
      if (v.spec.hostPath != null) report(`hostPath volumes (volume ${q(v.name)})`, v.path('hostPath'));
    }
  },
  examples: {
    pass: [pod({ volumes: [{ name: 'cache', emptyDir: {} }] })],
    fail: [pod({ volumes: [{ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }] })],
  },
});

const hostPorts = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.host-ports',
  title: 'Containers bind no host ports',
  description:
    'hostPort bypasses network policy and pins pods to nodes: containers[*].ports[*].hostPort must be unset or 0.' + upstream('hostPorts', 'baseline'),
  severity: 'high',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    for (const c of pod.containers()) {
      const { ports } = c;
      for (let i = 0; i < ports.length; i++) {
        const hp = ports[i]?.hostPort;
        if (hp !== undefined && hp !== null && hp !== 0) report(`hostPort (container ${q(c.name)} uses hostPort ${hp})`, c.path(`ports[${i}].hostPort`));
      }
    }
  },
  examples: {
    pass: [pod({}, { ports: [{ containerPort: 8080 }] }), pod({}, { ports: [{ containerPort: 8080, hostPort: 0 }] })],
    fail: [pod({}, { ports: [{ containerPort: 8080, hostPort: 8080 }] })],
  },
});

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;
const HOST_HANDLERS = ['httpGet', 'tcpSocket'] as const;

const hostProbes = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.host-probes-and-host-lifecycle',
  title: 'Probes and lifecycle handlers do not target another host',
  description:
    'A probe or lifecycle handler with a host can make the kubelet reach any address: httpGet.host and tcpSocket.host of liveness, readiness and startup probes and of postStart/preStop handlers must be unset or empty.' +
    upstream('hostProbesAndHostLifecycle', 'baseline'),
  severity: 'medium',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    for (const c of pod.containers()) {
      // a probe and a lifecycle handler have the same httpGet/tcpSocket shape
      const visit = (handler: { httpGet?: { host?: string }; tcpSocket?: { host?: string } } | undefined, where: string) => {
        if (!handler || typeof handler !== 'object') return;
        for (const kind of HOST_HANDLERS) {
          const host = handler[kind]?.host;
          if (typeof host === 'string' && host !== '')
            report(`probe or lifecycle host (container ${q(c.name)} uses ${where}.${kind}.host ${q(host)})`, c.path(`${where}.${kind}.host`));
        }
      };
      for (const field of PROBES) visit(c.probe(field), field);
      const { lifecycle } = c;
      if (lifecycle) {
        visit(lifecycle.postStart, 'lifecycle.postStart');
        visit(lifecycle.preStop, 'lifecycle.preStop');
      }
    }
  },
  examples: {
    pass: [pod({}, { livenessProbe: { httpGet: { port: 8080, path: '/healthz' } } })],
    fail: [
      pod({}, { readinessProbe: { tcpSocket: { host: '10.0.0.1', port: 5432 } } }),
      pod({}, { lifecycle: { preStop: { httpGet: { host: 'example.com', port: 80 } } } }),
    ],
  },
});

/** The AppArmor type a security context sets, when it is not an allowed one. */
const forbiddenAppArmor = (sc: { appArmorProfile?: { type?: string } } | undefined) => {
  const t = sc?.appArmorProfile?.type;
  return t !== undefined && t !== null && t !== 'RuntimeDefault' && t !== 'Localhost' ? t : undefined;
};

const appArmor = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.apparmor-profile',
  title: 'AppArmor is not disabled',
  description:
    'securityContext.appArmorProfile.type (pod and containers) must be unset, RuntimeDefault or Localhost, and the legacy annotations container.apparmor.security.beta.kubernetes.io/* must be unset, "runtime/default" or "localhost/*".' +
    upstream('appArmorProfile', 'baseline'),
  severity: 'high',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    const annotations = pod.annotations;
    for (const key in annotations) {
      if (!key.startsWith(APPARMOR_ANNOTATION)) continue;
      const value = annotations[key];
      if (value === '' || value === 'runtime/default' || (typeof value === 'string' && value.startsWith('localhost/'))) continue;
      report(`forbidden AppArmor profile (annotation ${key}=${q(value)})`, pod.metadataPath('').concat(['annotations', key]));
    }
    const podType = forbiddenAppArmor(pod.securityContext);
    if (podType !== undefined)
      report(`forbidden AppArmor profile (pod must not set securityContext.appArmorProfile.type to ${q(podType)})`, pod.path('securityContext.appArmorProfile.type'));
    for (const c of pod.containers()) {
      const t = forbiddenAppArmor(c.securityContext);
      if (t !== undefined)
        report(
          `forbidden AppArmor profile (container ${q(c.name)} must not set securityContext.appArmorProfile.type to ${q(t)})`,
          c.path('securityContext.appArmorProfile.type'),
        );
    }
  },
  examples: {
    pass: [
      pod({}, {}, { annotations: { [`${APPARMOR_ANNOTATION}web`]: 'runtime/default' } }),
      pod({ securityContext: { appArmorProfile: { type: 'Localhost', localhostProfile: 'k8s-web' } } }),
    ],
    fail: [
      pod({}, {}, { annotations: { [`${APPARMOR_ANNOTATION}web`]: 'unconfined' } }),
      pod({}, { securityContext: { appArmorProfile: { type: 'Unconfined' } } }),
    ],
  },
});

const seLinux = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.selinux-options',
  title: 'SELinux options stay within the container types',
  description:
    `seLinuxOptions (pod and containers): type must be empty or one of ${[...ALLOWED_SELINUX_TYPES].join(', ')}; user and role must be empty.` +
    upstream('seLinuxOptions', 'baseline'),
  severity: 'high',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    // `whom` is a function: the label is only worth building when there is something to report.
    const visit = (sc: { seLinuxOptions?: { type?: string; user?: string; role?: string } } | undefined, whom: () => string, path: (rel: string) => readonly (string | number)[]) => {
      const opts = sc?.seLinuxOptions;
      if (!opts || typeof opts !== 'object') return;
      const { type, user, role } = opts;
      const who = whom();
      if (typeof type === 'string' && type !== '' && !ALLOWED_SELINUX_TYPES.has(type))
        report(`seLinuxOptions (${who} set forbidden securityContext.seLinuxOptions: type ${q(type)})`, path('securityContext.seLinuxOptions.type'));
      if (typeof user === 'string' && user !== '')
        report(`seLinuxOptions (${who} set forbidden securityContext.seLinuxOptions: user ${q(user)})`, path('securityContext.seLinuxOptions.user'));
      if (typeof role === 'string' && role !== '')
        report(`seLinuxOptions (${who} set forbidden securityContext.seLinuxOptions: role ${q(role)})`, path('securityContext.seLinuxOptions.role'));
    };
    visit(pod.securityContext, () => 'pod', (rel) => pod.path(rel));
    for (const c of pod.containers()) visit(c.securityContext, () => `container ${q(c.name)}`, (rel) => c.path(rel));
  },
  examples: {
    pass: [pod({ securityContext: { seLinuxOptions: { type: 'container_t', level: 's0:c123,c456' } } })],
    fail: [pod({}, { securityContext: { seLinuxOptions: { type: 'spc_t' } } }), pod({ securityContext: { seLinuxOptions: { user: 'system_u' } } })],
  },
});

const procMount = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.proc-mount',
  title: 'Containers keep the default /proc mask (unless in a user namespace)',
  description:
    'securityContext.procMount must be unset or Default; since v1.35 a pod with spec.hostUsers: false (its own user namespace) may use Unmasked.' +
    upstream('procMount', 'baseline'),
  severity: 'high',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    if (pod.spec.hostUsers === false) return;
    for (const c of pod.containers()) {
      const pm = c.securityContext?.procMount;
      if (pm !== undefined && pm !== null && pm !== 'Default')
        report(`procMount (container ${q(c.name)} must not set securityContext.procMount to ${q(pm)})`, c.path('securityContext.procMount'));
    }
  },
  examples: {
    pass: [pod({}, { securityContext: { procMount: 'Default' } }), pod({ hostUsers: false }, { securityContext: { procMount: 'Unmasked' } })],
    fail: [pod({}, { securityContext: { procMount: 'Unmasked' } })],
  },
});

const seccomp = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.seccomp-profile',
  title: 'Seccomp is not disabled',
  description: 'securityContext.seccompProfile.type (pod and containers) must not be Unconfined.' + upstream('seccompProfile_baseline', 'baseline'),
  severity: 'high',
  // restricted replaces this check by pss.restricted.seccomp-profile, which exempts Windows pods
  actionFor: (ctx) => pssAction(ctx, 'baseline', isWindows(ctx.pod)),
  validate({ pod, report }) {
    if (pod.securityContext?.seccompProfile?.type === 'Unconfined')
      report('seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")', pod.path('securityContext.seccompProfile.type'));
    for (const c of pod.containers()) {
      if (c.securityContext?.seccompProfile?.type === 'Unconfined')
        report(
          `seccompProfile (container ${q(c.name)} must not set securityContext.seccompProfile.type to "Unconfined")`,
          c.path('securityContext.seccompProfile.type'),
        );
    }
  },
  examples: {
    pass: [pod(), pod({ securityContext: { seccompProfile: { type: 'RuntimeDefault' } } })],
    fail: [pod({}, { securityContext: { seccompProfile: { type: 'Unconfined' } } })],
  },
});

const sysctls = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.sysctls',
  title: 'Pods set only safe sysctls',
  description: `spec.securityContext.sysctls[*].name must be one of ${[...ALLOWED_SYSCTLS].join(', ')}.` + upstream('sysctls', 'baseline'),
  severity: 'high',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    const list: unknown = pod.securityContext?.sysctls;
    if (!Array.isArray(list)) return;
    list.forEach((s: { name?: unknown } | null | undefined, i) => {
      const name = s?.name;
      if (typeof name !== 'string' || !ALLOWED_SYSCTLS.has(name))
        report(`forbidden sysctls (${typeof name === 'string' ? name : q(name)})`, pod.path(`securityContext.sysctls[${i}].name`));
    });
  },
  examples: {
    pass: [pod({ securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '300' }] } })],
    fail: [pod({ securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } })],
  },
});

const windowsHostProcess = definePolicy({
  ...BASELINE,
  id: 'pss.baseline.windows-host-process',
  title: 'Windows pods do not run as host processes',
  description: 'securityContext.windowsOptions.hostProcess (pod and containers) must be unset or false.' + upstream('windowsHostProcess', 'baseline'),
  severity: 'critical',
  actionFor: (ctx) => pssAction(ctx, 'baseline'),
  validate({ pod, report }) {
    if (pod.securityContext?.windowsOptions?.hostProcess === true)
      report('hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)', pod.path('securityContext.windowsOptions.hostProcess'));
    for (const c of pod.containers()) {
      if (c.securityContext?.windowsOptions?.hostProcess === true)
        report(
          `hostProcess (container ${q(c.name)} must not set securityContext.windowsOptions.hostProcess=true)`,
          c.path('securityContext.windowsOptions.hostProcess'),
        );
    }
  },
  examples: {
    pass: [pod({ os: { name: 'windows' }, securityContext: { windowsOptions: { runAsUserName: 'ContainerUser' } } })],
    fail: [pod({ os: { name: 'windows' }, hostNetwork: true, securityContext: { windowsOptions: { hostProcess: true } } })],
  },
});

/** Baseline checks, in upstream's order. */
export const baselinePolicies: Policy[] = [
  hostNamespaces,
  privileged,
  capabilities,
  hostPathVolumes,
  hostPorts,
  hostProbes,
  appArmor,
  seLinux,
  procMount,
  seccomp,
  sysctls,
  windowsHostProcess,
];
