import { definePolicy } from '../../src/index.js';
import { cronJob, deployment, describeContainer, imagesOf, pod, strings } from './common.js';

const c = (image: string, name = 'web') => ({ name, image });
const repos = ['registry.example/', 'mirror.example/library/'];

export default definePolicy({
  id: 'practices.allowed-registries',
  title: 'Images come only from the allowed registries',
  description:
    'Every container, init container and ephemeral container image starts with one of the prefixes in `repos` ' +
    '(registries or repository prefixes, as the Gatekeeper library\'s K8sAllowedRepos). End a registry prefix with `/` ' +
    '(`registry.example/`), or `registry.example.evil.com/x` would match too. An empty `repos` (the default) turns the ' +
    'rule off: set it per cluster or label in fleet.yaml or the webhook config. Images matching `exemptImages` ' +
    '(exact, or a prefix ending in `*`) are not judged; system namespaces are exempt.',
  area: 'practices',
  severity: 'high',
  action: 'warn',
  match: { kinds: ['Pod'] },
  params: { repos: [] as string[], exemptImages: [] as string[] },
  validate({ pod, params, report, isSystemNamespace, namespace }) {
    const allowed = strings(params.repos);
    if (!allowed.length || isSystemNamespace(namespace.name)) return;
    for (const { c, image } of imagesOf(pod, params.exemptImages))
      if (!allowed.some((r) => image.startsWith(r)))
        report(`${describeContainer(c)} image "${image}" is not from an allowed registry (allowed: ${allowed.join(', ')})`, c.path('image'));
  },
  examples: {
    pass: [
      { name: 'images from the allowed registries', objects: [pod({ containers: [c('registry.example/shop/web:1.4')], initContainers: [c('mirror.example/library/busybox:1.36', 'init')] })], params: { repos } },
      { name: 'off until repos is set', objects: [pod({ containers: [c('docker.io/library/nginx:1.27')] })] },
      { name: 'exempt image', objects: [pod({ containers: [c('quay.io/vetted/agent:2')] })], params: { repos, exemptImages: ['quay.io/vetted/*'] } },
    ],
    fail: [
      { name: 'docker hub', objects: [pod({ containers: [c('nginx:1.27')] })], params: { repos } },
      { name: 'a lookalike host', objects: [pod({ containers: [c('registry.example.evil.com/web:1')] })], params: { repos } },
      { name: 'init container', objects: [pod({ containers: [c('registry.example/web:1')], initContainers: [c('busybox:1.36', 'init')] })], params: { repos } },
      { name: 'ephemeral container', objects: [pod({ containers: [c('registry.example/web:1')], ephemeralContainers: [c('busybox:1.36', 'debug')] })], params: { repos } },
      { name: 'deployment', objects: [deployment({ containers: [c('ghcr.io/x/web:1')] })], params: { repos } },
      { name: 'cronjob', objects: [cronJob({ containers: [c('ghcr.io/x/report:1')] })], params: { repos } },
    ],
  },
});
