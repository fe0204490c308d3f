import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Namespace, ConfigMap, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

interface Manifest {
  file: string;
  object: Record<string, unknown> & { apiVersion: string; kind: string; metadata: { name: string } };
}

/** The Kubernetes kinds this directory uses, each with its schema-checked model. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

const root = import.meta.dirname;

function yamlFiles(directory: string): string[] {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return yamlFiles(path);
    return /\.ya?ml$/.test(entry.name) ? [path] : [];
  });
}

function load(): Manifest[] {
  return yamlFiles(root)
    .filter((path) => !path.endsWith('kustomization.yaml'))
    .flatMap((path) =>
      parseAllDocuments(readFileSync(path, 'utf8')).map((document) => {
        if (document.errors.length > 0) throw new Error(`${path}: ${document.errors.map(String).join('; ')}`);
        return { file: relative(root, path), object: document.toJS() as Manifest['object'] };
      }),
    );
}

const manifests = load();
const kustomization = parse(readFileSync(join(root, 'kustomization.yaml'), 'utf8')) as { resources: string[] };

function only(kind: string): Manifest['object'] {
  const found = manifests.filter((manifest) => manifest.object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0]!.object;
}

function validate(object: Manifest['object']): void {
  const Model = models[`${object.apiVersion}/${object.kind}`];
  if (!Model) throw new Error(`no schema for ${object.apiVersion} ${object.kind}`);
  new Model(object as never).validate();
}

/** Whether a label selector picks the pods of the Deployment. */
function selectsPods(matchLabels: Record<string, string>): boolean {
  const labels = deployment.spec!.template.metadata!.labels!;
  return Object.keys(matchLabels).length > 0 && Object.entries(matchLabels).every(([key, value]) => labels[key] === value);
}

const deployment = only('Deployment') as unknown as Deployment;
const container = deployment.spec!.template.spec!.containers[0]!;

describe('deploy/k8s', () => {
  it.each(manifests.map((manifest) => [`${manifest.file}: ${manifest.object.kind} ${manifest.object.metadata.name}`, manifest]))(
    'validates against the Kubernetes schema: %s',
    (_, manifest) => {
      expect(() => validate(manifest.object)).not.toThrow();
    },
  );

  it('catches a manifest the Kubernetes schema refuses', () => {
    const broken = structuredClone(deployment) as unknown as Manifest['object'];
    (broken.spec as { replicas: unknown }).replicas = 'three';
    expect(() => validate(broken)).toThrow(/replicas must be integer/);
  });

  it('lists every manifest of the directory in the kustomization, and nothing else', () => {
    const listed = [...kustomization.resources].sort();
    const present = [...new Set(manifests.map((manifest) => manifest.file))].filter((file) => !file.includes('/')).sort();
    expect(listed).toEqual(present);
  });

  it('runs several replicas, non-root, with requests and limits', () => {
    expect(deployment.spec!.replicas).toBeGreaterThanOrEqual(2);
    expect(deployment.spec!.template.spec!.securityContext).toMatchObject({ runAsNonRoot: true });
    expect(deployment.spec!.template.spec!.securityContext!.runAsUser).toBeGreaterThan(0);
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.resources?.requests).toHaveProperty('cpu');
    expect(container.resources?.requests).toHaveProperty('memory');
    expect(container.resources?.limits).toHaveProperty('memory');
  });

  it('is ready only when /healthz is, and alive by the gRPC health service that does not ask the dependencies', () => {
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/healthz', port: 'http' });
    expect(container.livenessProbe?.grpc?.port).toBe(50052);
    expect(container.startupProbe?.grpc?.port).toBe(50052);
  });

  it('serves HTTP on 8080 and gRPC on 50052 to the Deployment’s pods', () => {
    const service = only('Service') as unknown as Service;
    expect(service.spec!.ports!.map((port) => port.port)).toEqual([8080, 50052]);
    expect(selectsPods(service.spec!.selector!)).toBe(true);
    const config = manifests.find((manifest) => manifest.object.kind === 'ConfigMap' && manifest.object.metadata.name === 'loupe-cloud')!;
    expect(config.object.data).toMatchObject({ HTTP_HOST: '0.0.0.0', HTTP_PORT: '8080', GRPC_HOST: '0.0.0.0', GRPC_PORT: '50052' });
  });

  it('gives every replica its own MQTT client id in one share group', () => {
    expect(container.env?.find((variable) => variable.name === 'MQTT_CLIENT_ID')?.value).toContain('$(POD_NAME)');
  });

  it('lets a replica stop gracefully before the kubelet kills it', () => {
    const config = manifests.find((manifest) => manifest.object.metadata.name === 'loupe-cloud' && manifest.object.kind === 'ConfigMap')!;
    const shutdownSeconds = Number(/^(\d+)s$/.exec(String((config.object.data as Record<string, string>).SHUTDOWN_TIMEOUT))?.[1]);
    const preStopSeconds = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
    expect(shutdownSeconds + preStopSeconds).toBeLessThan(deployment.spec!.template.spec!.terminationGracePeriodSeconds!);
  });

  it('keeps a PodDisruptionBudget over the Deployment’s pods', () => {
    const budget = only('PodDisruptionBudget') as unknown as PodDisruptionBudget;
    expect(selectsPods(budget.spec!.selector!.matchLabels!)).toBe(true);
    expect(budget.spec!.minAvailable).toBeLessThan(deployment.spec!.replicas!);
  });

  it('scales the Deployment on the ingest lag metric the prometheus-adapter rule serves', () => {
    const autoscaler = only('HorizontalPodAutoscaler') as unknown as HorizontalPodAutoscaler;
    expect(autoscaler.spec.scaleTargetRef).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata!.name });
    expect(autoscaler.spec.minReplicas).toBeGreaterThanOrEqual(2);
    const lagMetric = autoscaler.spec.metrics!.find((metric) => metric.type === 'Pods')!.pods!.metric.name;
    const adapter = manifests.find((manifest) => manifest.file === 'prometheus-adapter/rules.yaml')!;
    const rules = parse((adapter.object.data as Record<string, string>)['config.yaml']!) as {
      rules: { seriesQuery: string; name: { as: string }; metricsQuery: string }[];
    };
    const rule = rules.rules.find((candidate) => candidate.name.as === lagMetric);
    expect(rule?.seriesQuery).toContain('loupe_cloud_sample_ingest_lag_seconds_count');
    expect(rule?.metricsQuery).toContain('loupe_cloud_sample_ingest_lag_seconds_sum');
  });

  it('holds no secret values: credentials come from Secret references only', () => {
    expect(manifests.filter((manifest) => manifest.object.kind === 'Secret')).toEqual([]);
    const secretNames = /PASSWORD|SECRET|TOKEN|DATABASE_URL|KEY_ID/;
    for (const manifest of manifests.filter((candidate) => candidate.object.kind === 'ConfigMap')) {
      expect(Object.keys((manifest.object.data as object | undefined) ?? {}).filter((key) => secretNames.test(key)), manifest.file).toEqual([]);
    }
    for (const variable of container.env ?? []) {
      if (secretNames.test(variable.name)) expect(variable.valueFrom?.secretKeyRef, variable.name).toBeDefined();
    }
    expect(yamlFiles(root).map((path) => readFileSync(path, 'utf8')).join('\n')).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----|postgres(ql)?:\/\/[^\s:@/]+:[^\s@/]+@/);
  });
});
