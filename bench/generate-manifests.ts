import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Generates a realistic lint workload: `files` multi-document YAML files with `perFile` objects each, a tenant
 * namespace per file with its NetworkPolicy/quota/limit range, and a mix of Deployments, StatefulSets, CronJobs,
 * Services, ConfigMaps and Istio objects — some compliant, some not, so policies do real work and report findings.
 */
export async function generateManifests(dir: string, files = 100, perFile = 100): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let f = 0; f < files; f++) {
    const ns = `tenant-${f}`;
    const docs: string[] = [
      `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n  labels:\n    istio-injection: enabled\n    fleetgate.io/data-classification: internal\n`,
      `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: default-deny\n  namespace: ${ns}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n`,
      `apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: quota\n  namespace: ${ns}\nspec:\n  hard:\n    requests.cpu: "8"\n    requests.memory: 16Gi\n    limits.cpu: "16"\n    limits.memory: 32Gi\n    pods: "100"\n`,
    ];
    for (let i = docs.length; i < perFile; i++) {
      const name = `app-${f}-${i}`;
      const sloppy = i % 7 === 0;
      const resources = sloppy
        ? ''
        : `\n          resources:\n            requests: {cpu: 100m, memory: 128Mi}\n            limits: {cpu: 500m, memory: 256Mi}`;
      const security = sloppy
        ? `\n          securityContext:\n            privileged: true`
        : `\n          securityContext:\n            allowPrivilegeEscalation: false\n            runAsNonRoot: true\n            capabilities: {drop: [ALL]}\n            seccompProfile: {type: RuntimeDefault}`;
      switch (i % 6) {
        case 0:
        case 1:
          docs.push(
            `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\n  namespace: ${ns}\n  labels: {app: ${name}}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: ${name}}\n  template:\n    metadata:\n      labels: {app: ${name}}\n    spec:${sloppy ? '\n      hostNetwork: true' : ''}\n      containers:\n        - name: app\n          image: registry.example.com/${name}:1.${i}.0\n          ports:\n            - containerPort: 8080${resources}${security}\n        - name: sidecar\n          image: registry.example.com/proxy:2.1${resources}${security}\n`,
          );
          break;
        case 2:
          docs.push(
            `apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  schedule: "0 3 * * *"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: OnFailure\n          containers:\n            - name: job\n              image: registry.example.com/batch:3.${i}\n`,
          );
          break;
        case 3:
          docs.push(
            `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  selector: {app: ${name}}\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n`,
          );
          break;
        case 4:
          docs.push(
            `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  namespace: ${ns}\ndata:\n  settings.yaml: |\n    level: info\n    replicas: ${i}\n  feature: "on"\n`,
          );
          break;
        default:
          docs.push(
            `apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata:\n  name: ${name}\n  namespace: ${ns}\nspec:\n  host: ${name}.${ns}.svc.cluster.local\n  trafficPolicy:\n    tls:\n      mode: ${sloppy ? 'DISABLE' : 'ISTIO_MUTUAL'}\n`,
          );
      }
    }
    await writeFile(join(dir, `tenant-${String(f).padStart(3, '0')}.yaml`), docs.join('---\n'));
  }
}
