// The Kubernetes bundle: every kustomize overlay renders, every object validates against the
// Kubernetes and prometheus-operator schemas (kubernetes-models), the sidecar is locked down and
// probed as documented, its ConfigMap is a valid grpc-pulse config, and the PrometheusRule is fresh.

import { readFileSync } from 'node:fs';
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../src/config/load.js';
import { hasCommand, runTool } from './harness/tools.js';

const OVERLAYS = ['base', 'overlays/classic-sidecar', 'overlays/servicemonitor', 'overlays/secured'] as const;
const kubectl = hasCommand('kubectl');

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  // biome-ignore lint/suspicious/noExplicitAny: rendered manifests are checked by the schema classes
  [key: string]: any;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'monitoring.coreos.com/v1/PodMonitor': PodMonitor,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'monitoring.coreos.com/v1/PrometheusRule': PrometheusRule,
};

function render(overlay: string): K8sObject[] {
  const result = runTool('kubectl', ['kustomize', `deploy/kubernetes/${overlay}`]);
  if (result.status !== 0) throw new Error(`kubectl kustomize ${overlay} failed:\n${result.output}`);
  const objects = parseAllDocuments(result.output).map((d) => d.toJS() as K8sObject);
  // kustomize wraps a Secret's base64 over lines; the API server's decoder (Go) ignores line breaks.
  for (const o of objects.filter((o) => o.kind === 'Secret')) {
    for (const key of Object.keys(o.data ?? {})) o.data[key] = String(o.data[key]).replace(/\s/g, '');
  }
  return objects;
}

function sidecar(objects: K8sObject[]) {
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const spec = deployment?.spec.template.spec;
  const all = [...(spec.initContainers ?? []), ...spec.containers];
  return { spec, container: all.find((c: { name: string }) => c.name === 'grpc-pulse') };
}

describe.each(OVERLAYS)('kustomize %s', (overlay) => {
  it('renders objects that validate against their schemas', (context) => {
    if (!kubectl) context.skip('kubectl is not installed: cannot render kustomize overlays');
    const objects = render(overlay);
    expect(objects.length).toBeGreaterThanOrEqual(4);
    for (const object of objects) {
      const Model = MODELS[`${object.apiVersion}/${object.kind}`];
      expect(Model, `no schema for ${object.apiVersion} ${object.kind}`).toBeDefined();
      expect(
        () => new (Model as NonNullable<typeof Model>)(object as never).validate(),
        `${object.kind} ${object.metadata.name}`,
      ).not.toThrow();
    }
  });

  it('runs grpc-pulse locked down, probed and sized', (context) => {
    if (!kubectl) context.skip('kubectl is not installed: cannot render kustomize overlays');
    const { spec, container } = sidecar(render(overlay));
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.livenessProbe.httpGet.path).toBe('/-/healthy');
    expect(container.readinessProbe.httpGet.path).toBe('/-/ready');
    expect(container.resources.requests.memory).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.volumeMounts).toContainEqual({
      name: 'grpc-pulse-config',
      mountPath: '/etc/grpc-pulse',
      readOnly: true,
    });
    if (overlay === 'base' || overlay === 'overlays/secured') {
      expect(container.restartPolicy).toBe('Always');
      expect(spec.initContainers).toHaveLength(1);
    } else {
      expect(spec.initContainers).toBeUndefined();
      expect(container.restartPolicy).toBeUndefined();
      expect(spec.containers.map((c: { name: string }) => c.name)).toEqual(['app', 'grpc-pulse']);
    }
  });

  it('ships a config that grpc-pulse accepts, and the current PrometheusRule', (context) => {
    if (!kubectl) context.skip('kubectl is not installed: cannot render kustomize overlays');
    const objects = render(overlay);
    const configMap = objects.find((o) => o.kind === 'ConfigMap');
    const config = parseConfigText(configMap?.data['config.yaml'], 'configmap', { baseDir: '.', env: {} });
    expect(config.targets.map((t) => t.name)).toEqual(['orders', 'payments']);
    const rule = objects.find((o) => o.kind === 'PrometheusRule');
    const fresh = parseAllDocuments(readFileSync('alerts/grpc-pulse.prometheusrule.yaml', 'utf8'))[0]?.toJS();
    expect(rule).toEqual(fresh);
    const monitors = objects.filter((o) => o.kind === 'PodMonitor' || o.kind === 'ServiceMonitor');
    expect(monitors).toHaveLength(1);
  });
});

describe('kustomize overlays/secured', () => {
  it('serves HTTPS with basic auth, probed by the kubelet and scraped by Prometheus with both', (context) => {
    if (!kubectl) context.skip('kubectl is not installed: cannot render kustomize overlays');
    const objects = render('overlays/secured');
    const { container } = sidecar(objects);
    expect(container.args).toContain('--web.config.file');
    expect(container.livenessProbe.httpGet).toMatchObject({ path: '/-/healthy', scheme: 'HTTPS' });
    expect(container.livenessProbe.httpGet.httpHeaders).toBeUndefined(); // /-/healthy stays open
    const header = container.readinessProbe.httpGet.httpHeaders?.[0]?.value as string;
    const [user] = Buffer.from(header.replace(/^Basic /, ''), 'base64')
      .toString()
      .split(':');
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'grpc-pulse-web');
    const web = parseAllDocuments(Buffer.from(secret?.data['web.yaml'], 'base64').toString())[0]?.toJS();
    expect(Object.keys(web.basic_auth_users)).toContain(user);
    const monitor = objects.find((o) => o.kind === 'PodMonitor');
    expect(monitor?.spec.podMetricsEndpoints[0]).toMatchObject({ scheme: 'https', basicAuth: {} });
  });
});
