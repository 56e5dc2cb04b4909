import t from 'tap';
import { PodView } from '../../src/authoring/index.js';
import type { KubeObject } from '../../src/model/index.js';

/** The pod and container views hand out guarded fields: an object or undefined, a list or an empty one — never a cast. */

const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec });

t.test('container fields are guarded: an object (or list) when the field is one, otherwise undefined (or empty)', async (t) => {
  const sc = { privileged: true };
  const resources = { limits: { cpu: '1' } };
  const view = PodView.of(
    pod({
      securityContext: { runAsNonRoot: true },
      containers: [
        { name: 'ok', securityContext: sc, resources, ports: [{ containerPort: 80 }], readinessProbe: { tcpSocket: { port: 80 } }, lifecycle: { preStop: {} } },
        { name: 'odd', securityContext: 'privileged', resources: ['cpu'], ports: { containerPort: 80 }, livenessProbe: 7, lifecycle: null },
        { securityContext: null },
      ],
    }),
  )!;
  const [ok, odd, unnamed] = view.containers();
  t.equal(ok.securityContext, sc, 'the object itself, not a copy');
  t.equal(ok.resources, resources);
  t.same(ok.ports, [{ containerPort: 80 }]);
  t.same(ok.probe('readinessProbe'), { tcpSocket: { port: 80 } });
  t.equal(ok.probe('livenessProbe'), undefined);
  t.same(ok.lifecycle, { preStop: {} });
  t.equal(odd.securityContext, undefined, 'a string is not a securityContext');
  t.equal(odd.resources, undefined, 'a list is not resources');
  t.same(odd.ports, [], 'a map is not a list of ports');
  t.equal(odd.probe('livenessProbe'), undefined);
  t.equal(odd.lifecycle, undefined);
  t.equal(unnamed.name, '#2');
  t.equal(unnamed.securityContext, undefined);
  t.same(view.securityContext, { runAsNonRoot: true });
  t.equal(PodView.of(pod({ securityContext: [1] }))!.securityContext, undefined);
});

t.test('views are shared and keep their paths: one read per pod for every policy', async (t) => {
  const obj: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'c' },
    spec: { jobTemplate: { spec: { template: { spec: { initContainers: [{ name: 'i', securityContext: { runAsUser: 0 } }] } } } } },
  };
  const view = PodView.of(obj)!;
  t.equal(view.containers(), view.containers(), 'built once');
  const [c] = view.containers();
  t.equal(c.securityContext, c.securityContext);
  t.same(c.path('securityContext.runAsUser'), ['spec', 'jobTemplate', 'spec', 'template', 'spec', 'initContainers', 0, 'securityContext', 'runAsUser']);
  t.equal(c.get('securityContext.runAsUser'), 0);
  t.equal(c.spec.name, 'i');
});
