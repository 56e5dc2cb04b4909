import { definePolicy } from '../../src/index.js';
import { cronJob, deployment, describeContainer, imagesOf, pod } from './common.js';

const ro = { readOnlyRootFilesystem: true };
const c = (securityContext?: Record<string, unknown>, name = 'web') => ({ name, image: `shop/${name}:1.4`, ...(securityContext ? { securityContext } : {}) });

export default definePolicy({
  id: 'practices.read-only-root-filesystem',
  title: 'Containers run with a read-only root filesystem',
  description:
    'A writable root filesystem lets an intruder drop tools and persist changes inside the container. Every ' +
    'container, init container and ephemeral container sets `securityContext.readOnlyRootFilesystem: true` (mount an ' +
    "`emptyDir` where the program must write). As the Gatekeeper library's K8sPSPReadOnlyRootFilesystem, with " +
    '`exemptImages` (exact, or a prefix ending in `*`). System namespaces are exempt.',
  area: 'practices',
  severity: 'medium',
  action: 'audit',
  match: { kinds: ['Pod'] },
  params: { exemptImages: [] as string[] },
  validate({ pod, params, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    for (const { c } of imagesOf(pod, params.exemptImages)) {
      const value = c.get('securityContext.readOnlyRootFilesystem');
      if (value === true) continue;
      report(
        `${describeContainer(c)} ${value === false ? 'sets readOnlyRootFilesystem: false' : 'does not set readOnlyRootFilesystem'}: set securityContext.readOnlyRootFilesystem: true`,
        value === undefined ? c.path(c.get('securityContext') === undefined ? '' : 'securityContext') : c.path('securityContext.readOnlyRootFilesystem'),
      );
    }
  },
  examples: {
    pass: [
      pod({ containers: [c(ro)], initContainers: [c(ro, 'migrate')] }),
      deployment({ containers: [c(ro)] }),
      { name: 'exempt image', objects: [pod({ containers: [c({ readOnlyRootFilesystem: false }, 'legacy')] })], params: { exemptImages: ['shop/legacy:*'] } },
    ],
    fail: [
      pod({ containers: [c()] }),
      pod({ containers: [c({ readOnlyRootFilesystem: false })] }),
      pod({ containers: [c(ro)], initContainers: [c({}, 'migrate')] }),
      pod({ containers: [c(ro)], ephemeralContainers: [c(undefined, 'debug')] }),
      cronJob({ containers: [c()] }),
    ],
  },
});
