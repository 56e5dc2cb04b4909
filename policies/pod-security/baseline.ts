import type { Policy, PodView } from '../../src/index.js';
import { deployment, pod } from './examples.js';
import { pssPolicy } from './level.js';

/**
 * The baseline level of the Pod Security Standards (policy version v1.37), one policy per upstream check.
 * Semantics follow kubernetes/pod-security-admission; messages are "<upstream reason> (<which container, which field>)".
 * Fields are read straight from the pod spec (no path compiling, no cloning): these run on every admission request.
 */

type Obj = Record<string, unknown> | null | undefined;
const q = (s: unknown) => JSON.stringify(s);
const sc = (o: unknown): Obj => (o && typeof o === 'object' ? ((o as Record<string, unknown>).securityContext as Obj) : undefined);
const isWindows = (p: PodView) => p.os === 'windows';

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

const hostNamespaces = pssPolicy({
  check: 'host-namespaces',
  level: 'baseline',
  upstream: 'hostNamespaces',
  title: 'Pods do not share the host network, PID or IPC namespace',
  description: 'Sharing the host namespaces must be disallowed: spec.hostNetwork, spec.hostPID and spec.hostIPC must be unset or false.',
  severity: 'high',
  check_(p, emit) {
    const s = p.spec;
    if (s.hostNetwork === true) emit('host namespaces (hostNetwork=true)', p.path('hostNetwork'));
    if (s.hostPID === true) emit('host namespaces (hostPID=true)', p.path('hostPID'));
    if (s.hostIPC === true) emit('host namespaces (hostIPC=true)', p.path('hostIPC'));
  },
  examples: {
    pass: [pod(), pod({ hostNetwork: false, hostPID: false, hostIPC: false })],
    fail: [pod({ hostNetwork: true }), pod({ hostIPC: true }), deployment(pod({ hostPID: true }))],
  },
});

const privileged = pssPolicy({
  check: 'privileged',
  level: 'baseline',
  upstream: 'privileged',
  title: 'Containers are not privileged',
  description: 'Privileged containers disable most security mechanisms: securityContext.privileged must be unset or false on every container.',
  severity: 'critical',
  check_(p, emit) {
    for (const c of p.containers()) {
      if (sc(c.spec)?.privileged === true)
        emit(`privileged (container ${q(c.name)} must not set securityContext.privileged=true)`, c.path('securityContext.privileged'));
    }
  },
  examples: {
    pass: [pod(), pod({}, { securityContext: { privileged: false } })],
    fail: [pod({}, { securityContext: { privileged: true } })],
  },
});

const capabilities = pssPolicy({
  check: 'capabilities',
  level: 'baseline',
  upstream: 'capabilities_baseline',
  title: 'Containers add no capabilities beyond the runtime defaults',
  description: `securityContext.capabilities.add may only list ${[...BASELINE_CAPABILITIES].join(', ')} (exact names, no CAP_ prefix).`,
  severity: 'high',
  // restricted replaces this check by pss.restricted.capabilities, which exempts Windows pods
  overriddenAtRestricted: isWindows,
  check_(p, emit) {
    for (const c of p.containers()) {
      const add = (sc(c.spec)?.capabilities as Obj)?.add;
      if (!Array.isArray(add)) continue;
      add.forEach((cap, i) => {
        if (typeof cap !== 'string' || !BASELINE_CAPABILITIES.has(cap))
          emit(
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

const hostPathVolumes = pssPolicy({
  check: 'host-path-volumes',
  level: 'baseline',
  upstream: 'hostPathVolumes',
  title: 'Pods mount no hostPath volumes',
  description: 'hostPath volumes expose the node’s file system: spec.volumes[*].hostPath must be unset.',
  severity: 'critical',
  check_(p, emit) {
    for (const v of p.volumes()) {
      if (v.spec.hostPath != null) emit(`hostPath volumes (volume ${q(v.name)})`, v.path('hostPath'));
    }
  },
  examples: {
    pass: [pod({ volumes: [{ name: 'cache', emptyDir: {} }] })],
    fail: [pod({ volumes: [{ name: 'docker', hostPath: { path: '/var/run/docker.sock' } }] })],
  },
});

const hostPorts = pssPolicy({
  check: 'host-ports',
  level: 'baseline',
  upstream: 'hostPorts',
  title: 'Containers bind no host ports',
  description: 'hostPort bypasses network policy and pins pods to nodes: containers[*].ports[*].hostPort must be unset or 0.',
  severity: 'high',
  check_(p, emit) {
    for (const c of p.containers()) {
      const ports = c.spec.ports;
      if (!Array.isArray(ports)) continue;
      ports.forEach((port, i) => {
        const hp = port?.hostPort;
        if (hp !== undefined && hp !== null && hp !== 0)
          emit(`hostPort (container ${q(c.name)} uses hostPort ${hp})`, c.path(`ports[${i}].hostPort`));
      });
    }
  },
  examples: {
    pass: [pod({}, { ports: [{ containerPort: 8080 }] }), pod({}, { ports: [{ containerPort: 8080, hostPort: 0 }] })],
    fail: [pod({}, { ports: [{ containerPort: 8080, hostPort: 8080 }] })],
  },
});

const PROBES = ['livenessProbe', 'readinessProbe', 'startupProbe'] as const;

const hostProbes = pssPolicy({
  check: 'host-probes-and-host-lifecycle',
  level: 'baseline',
  upstream: 'hostProbesAndHostLifecycle',
  title: 'Probes and lifecycle handlers do not target another host',
  description:
    'A probe or lifecycle handler with a host can make the kubelet reach any address: httpGet.host and tcpSocket.host of liveness, readiness and startup probes and of postStart/preStop handlers must be unset or empty.',
  severity: 'medium',
  check_(p, emit) {
    for (const c of p.containers()) {
      const spec = c.spec as unknown as Record<string, Obj>;
      const visit = (handler: Obj, where: string) => {
        if (!handler || typeof handler !== 'object') return;
        for (const kind of ['httpGet', 'tcpSocket'] as const) {
          const host = (handler[kind] as Obj)?.host;
          if (typeof host === 'string' && host !== '')
            emit(`probe or lifecycle host (container ${q(c.name)} uses ${where}.${kind}.host ${q(host)})`, c.path(`${where}.${kind}.host`));
        }
      };
      for (const field of PROBES) visit(spec[field], field);
      const lifecycle = spec.lifecycle;
      if (lifecycle && typeof lifecycle === 'object') {
        visit(lifecycle.postStart as Obj, 'lifecycle.postStart');
        visit(lifecycle.preStop as Obj, 'lifecycle.preStop');
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

const appArmor = pssPolicy({
  check: 'apparmor-profile',
  level: 'baseline',
  upstream: 'appArmorProfile',
  title: 'AppArmor is not disabled',
  description:
    'securityContext.appArmorProfile.type (pod and containers) must be unset, RuntimeDefault or Localhost, and the legacy annotations container.apparmor.security.beta.kubernetes.io/* must be unset, "runtime/default" or "localhost/*".',
  severity: 'high',
  check_(p, emit) {
    const annotations = p.annotations;
    for (const key in annotations) {
      if (!key.startsWith(APPARMOR_ANNOTATION)) continue;
      const value = annotations[key];
      if (value === '' || value === 'runtime/default' || (typeof value === 'string' && value.startsWith('localhost/'))) continue;
      emit(`forbidden AppArmor profile (annotation ${key}=${q(value)})`, p.metadataPath('').concat(['annotations', key]));
    }
    const bad = (o: unknown) => {
      const t = (sc(o)?.appArmorProfile as Obj)?.type;
      return t !== undefined && t !== null && t !== 'RuntimeDefault' && t !== 'Localhost' ? t : undefined;
    };
    const podType = bad(p.spec);
    if (podType !== undefined)
      emit(`forbidden AppArmor profile (pod must not set securityContext.appArmorProfile.type to ${q(podType)})`, p.path('securityContext.appArmorProfile.type'));
    for (const c of p.containers()) {
      const t = bad(c.spec);
      if (t !== undefined)
        emit(
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

const seLinux = pssPolicy({
  check: 'selinux-options',
  level: 'baseline',
  upstream: 'seLinuxOptions',
  title: 'SELinux options stay within the container types',
  description: `seLinuxOptions (pod and containers): type must be empty or one of ${[...ALLOWED_SELINUX_TYPES].join(', ')}; user and role must be empty.`,
  severity: 'high',
  check_(p, emit) {
    // `who` is a function: the label is only worth building when there is something to report.
    const visit = (o: unknown, whom: () => string, path: (rel: string) => readonly (string | number)[]) => {
      const opts = sc(o)?.seLinuxOptions as Obj;
      if (!opts || typeof opts !== 'object') return;
      const { type, user, role } = opts;
      const who = whom();
      if (typeof type === 'string' && type !== '' && !ALLOWED_SELINUX_TYPES.has(type))
        emit(`seLinuxOptions (${who} set forbidden securityContext.seLinuxOptions: type ${q(type)})`, path('securityContext.seLinuxOptions.type'));
      if (typeof user === 'string' && user !== '')
        emit(`seLinuxOptions (${who} set forbidden securityContext.seLinuxOptions: user ${q(user)})`, path('securityContext.seLinuxOptions.user'));
      if (typeof role === 'string' && role !== '')
        emit(`seLinuxOptions (${who} set forbidden securityContext.seLinuxOptions: role ${q(role)})`, path('securityContext.seLinuxOptions.role'));
    };
    visit(p.spec, () => 'pod', (rel) => p.path(rel));
    for (const c of p.containers()) visit(c.spec, () => `container ${q(c.name)}`, c.path);
  },
  examples: {
    pass: [pod({ securityContext: { seLinuxOptions: { type: 'container_t', level: 's0:c123,c456' } } })],
    fail: [pod({}, { securityContext: { seLinuxOptions: { type: 'spc_t' } } }), pod({ securityContext: { seLinuxOptions: { user: 'system_u' } } })],
  },
});

const procMount = pssPolicy({
  check: 'proc-mount',
  level: 'baseline',
  upstream: 'procMount',
  title: 'Containers keep the default /proc mask (unless in a user namespace)',
  description:
    'securityContext.procMount must be unset or Default; since v1.35 a pod with spec.hostUsers: false (its own user namespace) may use Unmasked.',
  severity: 'high',
  check_(p, emit) {
    if (p.spec.hostUsers === false) return;
    for (const c of p.containers()) {
      const pm = sc(c.spec)?.procMount;
      if (pm !== undefined && pm !== null && pm !== 'Default')
        emit(`procMount (container ${q(c.name)} must not set securityContext.procMount to ${q(pm)})`, c.path('securityContext.procMount'));
    }
  },
  examples: {
    pass: [pod({}, { securityContext: { procMount: 'Default' } }), pod({ hostUsers: false }, { securityContext: { procMount: 'Unmasked' } })],
    fail: [pod({}, { securityContext: { procMount: 'Unmasked' } })],
  },
});

const seccomp = pssPolicy({
  check: 'seccomp-profile',
  level: 'baseline',
  upstream: 'seccompProfile_baseline',
  title: 'Seccomp is not disabled',
  description: 'securityContext.seccompProfile.type (pod and containers) must not be Unconfined.',
  severity: 'high',
  // restricted replaces this check by pss.restricted.seccomp-profile, which exempts Windows pods
  overriddenAtRestricted: isWindows,
  check_(p, emit) {
    if ((sc(p.spec)?.seccompProfile as Obj)?.type === 'Unconfined')
      emit('seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")', p.path('securityContext.seccompProfile.type'));
    for (const c of p.containers()) {
      if ((sc(c.spec)?.seccompProfile as Obj)?.type === 'Unconfined')
        emit(
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

const sysctls = pssPolicy({
  check: 'sysctls',
  level: 'baseline',
  upstream: 'sysctls',
  title: 'Pods set only safe sysctls',
  description: `spec.securityContext.sysctls[*].name must be one of ${[...ALLOWED_SYSCTLS].join(', ')}.`,
  severity: 'high',
  check_(p, emit) {
    const list = sc(p.spec)?.sysctls;
    if (!Array.isArray(list)) return;
    list.forEach((s, i) => {
      const name = (s as Obj)?.name;
      if (typeof name !== 'string' || !ALLOWED_SYSCTLS.has(name))
        emit(`forbidden sysctls (${typeof name === 'string' ? name : q(name)})`, p.path(`securityContext.sysctls[${i}].name`));
    });
  },
  examples: {
    pass: [pod({ securityContext: { sysctls: [{ name: 'net.ipv4.tcp_keepalive_time', value: '300' }] } })],
    fail: [pod({ securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } })],
  },
});

const windowsHostProcess = pssPolicy({
  check: 'windows-host-process',
  level: 'baseline',
  upstream: 'windowsHostProcess',
  title: 'Windows pods do not run as host processes',
  description: 'securityContext.windowsOptions.hostProcess (pod and containers) must be unset or false.',
  severity: 'critical',
  check_(p, emit) {
    if ((sc(p.spec)?.windowsOptions as Obj)?.hostProcess === true)
      emit('hostProcess (pod must not set securityContext.windowsOptions.hostProcess=true)', p.path('securityContext.windowsOptions.hostProcess'));
    for (const c of p.containers()) {
      if ((sc(c.spec)?.windowsOptions as Obj)?.hostProcess === true)
        emit(
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
