import { definePolicy } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';
import { cronJob, deployment, describeContainer, isExemptImage, pod, strings } from './common.js';

const ready = { httpGet: { path: '/ready', port: 8080 } };
const live = { tcpSocket: { port: 8080 } };
const web = (probes: Record<string, unknown> = { readinessProbe: ready, livenessProbe: live }) => ({ name: 'web', image: 'shop/web:1.4', ...probes });

export default definePolicy({
  id: 'practices.required-probes',
  title: 'Containers declare readiness and liveness probes',
  description:
    'Without a readiness probe a pod takes traffic before it can serve it; without a liveness probe a hung process ' +
    'is never restarted. Every container declares each probe in `probes` (default `readinessProbe`, `livenessProbe`) ' +
    'with one of the handlers in `probeTypes` (default `tcpSocket`, `httpGet`, `exec`, `grpc`), as the Gatekeeper ' +
    "library's K8sRequiredProbes. Init containers and ephemeral containers cannot take these probes and are not " +
    'judged (a sidecar init container with `restartPolicy: Always` is). Job and CronJob pods run to completion and ' +
    'are not judged; system namespaces are exempt.',
  area: 'practices',
  severity: 'medium',
  action: 'audit',
  match: { kinds: ['Pod'] },
  exclude: { kinds: ['batch/Job', 'batch/CronJob'] },
  params: { probes: ['readinessProbe', 'livenessProbe'] as string[], probeTypes: ['tcpSocket', 'httpGet', 'exec', 'grpc'] as string[], exemptImages: [] as string[] },
  validate({ pod, params, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    const probes = strings(params.probes);
    const types = strings(params.probeTypes);
    for (const c of pod.containers()) {
      if (c.type === 'ephemeralContainers') continue;
      if (c.type === 'initContainers' && c.spec.restartPolicy !== 'Always') continue;
      if (typeof c.spec.image === 'string' && isExemptImage(c.spec.image, params.exemptImages)) continue;
      for (const probe of probes) {
        const p = c.get(probe);
        if (!isObject(p)) report(`${describeContainer(c)} has no ${probe}`, c.path());
        else if (!types.some((t) => isObject(p[t]))) report(`${describeContainer(c)} ${probe} has none of the handlers ${types.join(', ')}`, c.path(probe));
      }
    }
  },
  examples: {
    pass: [
      pod({ containers: [web()], initContainers: [{ name: 'migrate', image: 'shop/migrate:1' }] }),
      deployment({ containers: [web()], ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36' }] }),
      cronJob({ containers: [{ name: 'report', image: 'shop/report:1' }] }),
      { name: 'only readiness required', objects: [pod({ containers: [web({ readinessProbe: ready })] })], params: { probes: ['readinessProbe'] } },
    ],
    fail: [
      pod({ containers: [web({ readinessProbe: ready })] }),
      pod({ containers: [web({ readinessProbe: ready, livenessProbe: {} })] }),
      deployment({ containers: [web({})] }),
      pod({ containers: [web()], initContainers: [{ name: 'proxy', image: 'proxy:1', restartPolicy: 'Always' }] }),
    ],
  },
});
