import { definePolicy } from '../../src/index.js';
import { cronJob, deployment, describeContainer, imagesOf, parseImage, pod, strings } from './common.js';

const c = (image: string, name = 'web') => ({ name, image });

export default definePolicy({
  id: 'practices.image-tag',
  title: 'Images name a tag other than latest (or a digest)',
  description:
    'A container image without a tag, or with a moving tag such as `latest`, is a different image on every node that ' +
    'pulls it: rollbacks do nothing and two replicas can run two versions. Every container, init container and ' +
    'ephemeral container names an explicit tag that is not in `disallowedTags` (default `[latest]`), or a digest ' +
    '(`@sha256:…`). The port of a registry (`registry:5000/app`) is not a tag. With `requireDigest: true` every image ' +
    'must be pinned by digest. Images matching `exemptImages` (exact, or a prefix ending in `*`) are not judged. ' +
    'Same parameters as the Gatekeeper library\'s K8sDisallowedTags (`tags` there is `disallowedTags` here).',
  area: 'practices',
  severity: 'medium',
  action: 'warn',
  match: { kinds: ['Pod'] },
  params: { disallowedTags: ['latest'] as string[], requireDigest: false, exemptImages: [] as string[] },
  validate({ pod, params, report }) {
    const disallowed = strings(params.disallowedTags);
    for (const { c, image } of imagesOf(pod, params.exemptImages)) {
      const ref = parseImage(image);
      const at = c.path('image');
      if (params.requireDigest === true && !ref.digest) report(`${describeContainer(c)} image "${image}" is not pinned by digest: use ${ref.registry ? `${ref.registry}/` : ''}${ref.repository}@sha256:…`, at);
      else if (ref.tag && disallowed.includes(ref.tag) && !ref.digest)
        report(`${describeContainer(c)} image "${image}" uses the disallowed tag "${ref.tag}" (disallowed: ${disallowed.join(', ')}): name a fixed version`, at);
      else if (!ref.tag && !ref.digest) report(`${describeContainer(c)} image "${image}" has no tag, so it pulls "latest": name a fixed version`, at);
    }
  },
  examples: {
    pass: [
      pod({ containers: [c('registry.example/shop/web:1.4.2')] }),
      pod({ containers: [c('registry.example:5000/shop/web:1.4')] }),
      pod({ containers: [c('registry.example/shop/web@sha256:3b0f1c6e9d4a2b7c8e5f0a1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a7f8e9d0c1b')] }),
      { name: 'exempt image prefix', objects: [pod({ containers: [c('openpolicyagent/opa-exp:latest')] })], params: { exemptImages: ['openpolicyagent/opa-exp*'] } },
      { name: 'another tag is disallowed instead', objects: [pod({ containers: [c('shop/web:latest')] })], params: { disallowedTags: ['dev'] } },
    ],
    fail: [
      pod({ containers: [c('shop/web:latest')] }),
      pod({ containers: [c('nginx')] }),
      { name: 'a registry port is not a tag', objects: [pod({ containers: [c('registry.example:5000/shop/web')] })] },
      pod({ containers: [c('shop/web:1.4')], initContainers: [c('busybox:latest', 'init')] }),
      pod({ containers: [c('shop/web:1.4')], ephemeralContainers: [c('busybox', 'debug')] }),
      deployment({ containers: [c('shop/web:latest')] }),
      cronJob({ containers: [c('shop/report')] }),
      { name: 'requireDigest', objects: [pod({ containers: [c('shop/web:1.4')] })], params: { requireDigest: true } },
    ],
  },
});
