import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import {dirname, join} from 'node:path';
import {Ajv, type ErrorObject} from 'ajv';
import * as kubernetes from 'kubernetes-models';
import {describe, expect, it} from 'vitest';
import {KUBERNETES_DIR, kubernetesObjects, yamlDocuments, yamlFiles, type KubernetesObject} from './deploy-files.js';

/**
 * Every YAML file under deploy/ is checked offline against its schema: compose.yaml against the
 * Compose Specification's JSON schema (as shipped by the dclint package), each Kubernetes object
 * against the API schemas of kubernetes-models (Kubernetes 1.27). hub-auth.yml and registry.yml are
 * checked by config.test.ts (hub-auth's own parser; the registry's fields hub-auth depends on), the
 * kubelet's CredentialProviderConfig (a node's file, no API object) by hub's own
 * test/unit/kubelet/credential-provider.test.ts, beside the provider it configures.
 */

const CHECKED_ELSEWHERE = ['hub-auth.yml', 'kubelet/credential-provider-config.yaml', 'registry.yml'];

// The official compose-spec schema, kept current by dclint (MIT), whose package ships it.
const composeSchemaFile = join(dirname(createRequire(import.meta.url).resolve('dclint/package.json')), 'schemas', 'compose.schema.json');
// It names its draft-07 meta-schema by an https URL that ajv does not know under that name: the
// schema itself is not checked against it (strict: false for its non-standard keywords).
const validateCompose = new Ajv({allErrors: true, strict: false, validateSchema: false}).compile(
  JSON.parse(readFileSync(composeSchemaFile, 'utf8')) as object,
);

function composeProblems(document: unknown): string[] {
  if (validateCompose(document)) return [];
  return (validateCompose.errors ?? []).map(
    (error: ErrorObject) => `${error.instancePath || '/'} ${error.message ?? error.keyword} ${JSON.stringify(error.params)}`,
  );
}

interface Model {
  new (data: unknown): {validate(): void};
  apiVersion: string;
  kind: string;
}

/** Every model class kubernetes-models has, by "apiVersion kind". */
const models = new Map<string, Model>();
(function collect(namespace: object, depth: number): void {
  for (const value of Object.values(namespace)) {
    if (typeof value === 'function' && typeof value.apiVersion === 'string' && typeof value.kind === 'string') {
      models.set(`${value.apiVersion} ${value.kind}`, value as Model);
    } else if (value && typeof value === 'object' && depth < 3) {
      collect(value as object, depth + 1);
    }
  }
})(kubernetes, 0);

/** What the API server's schema finds wrong with an object, or [] (an unknown kind is a problem too). */
function kubernetesProblems(object: KubernetesObject): string[] {
  const model = models.get(`${object.apiVersion} ${object.kind}`);
  if (!model) return [`${object.apiVersion} ${object.kind} is not a Kubernetes 1.27 API type`];
  try {
    new model(object).validate();
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

describe('deploy/ manifests', () => {
  it('are all checked: compose.yaml, the Kubernetes objects, and the configurations config.test.ts loads', () => {
    const files = yamlFiles();
    expect(files.filter((file) => !file.startsWith(`${KUBERNETES_DIR}/`))).toEqual(['compose.yaml', ...CHECKED_ELSEWHERE]);
    expect(files.filter((file) => file.startsWith(`${KUBERNETES_DIR}/`)).length).toBeGreaterThan(0);
  });

  it('compose.yaml follows the Compose Specification', () => {
    const documents = yamlDocuments('compose.yaml');
    expect(documents).toHaveLength(1);
    expect(composeProblems(documents[0])).toEqual([]);
  });

  it.each(kubernetesObjects().map(({file, object}) => [`${file}: ${object.kind} ${object.metadata.name}`, object] as const))(
    '%s follows the Kubernetes API schema',
    (_name, object) => {
      expect(kubernetesProblems(object)).toEqual([]);
      expect(object.metadata.namespace ?? (object.kind === 'Namespace' ? undefined : 'missing')).toBe(
        object.kind === 'Namespace' ? undefined : 'hub',
      );
    },
  );

  it('has the objects an operator scaling out needs: readiness-probed Deployments with a disruption budget and an autoscaler each', () => {
    const byKind = (kind: string): KubernetesObject[] =>
      kubernetesObjects()
        .map(({object}) => object)
        .filter((object) => object.kind === kind);
    const deployments = byKind('Deployment')
      .map((deployment) => deployment.metadata.name)
      .sort();
    expect(deployments).toEqual(['hub-auth', 'registry']);
    const targets = (kind: string, target: (object: KubernetesObject) => unknown): unknown[] => byKind(kind).map(target).sort();
    type Spec = {spec: {selector?: {matchLabels: Record<string, string>}; scaleTargetRef?: {name: string}}};
    expect(targets('PodDisruptionBudget', (pdb) => (pdb as unknown as Spec).spec.selector?.matchLabels['app.kubernetes.io/name'])).toEqual(
      deployments,
    );
    expect(targets('HorizontalPodAutoscaler', (hpa) => (hpa as unknown as Spec).spec.scaleTargetRef?.name)).toEqual(deployments);
    for (const deployment of byKind('Deployment')) {
      type Pod = {
        spec: {
          template: {
            spec: {containers: Array<{readinessProbe?: unknown; livenessProbe?: unknown; resources?: {requests?: {cpu?: string}}}>};
          };
        };
      };
      for (const container of (deployment as unknown as Pod).spec.template.spec.containers) {
        expect(container.readinessProbe, deployment.metadata.name).toBeDefined();
        expect(container.livenessProbe, deployment.metadata.name).toBeDefined();
        // The autoscaler's utilization is a share of the request: without one it never scales.
        expect(container.resources?.requests?.cpu, deployment.metadata.name).toBeDefined();
      }
    }
  });
  it('name only Secrets and keys that secrets/secrets.yaml describes, which holds no value', () => {
    const secrets = kubernetesObjects()
      .filter(({object}) => object.kind === 'Secret')
      .map(({file, object}) => ({file, object: object as KubernetesObject & {stringData: Record<string, string>}}));
    expect(secrets.every(({file}) => file === `${KUBERNETES_DIR}/secrets/secrets.yaml`)).toBe(true);
    expect(secrets.flatMap(({object}) => Object.values(object.stringData)).every((value) => value === '')).toBe(true);
    const described = new Set(secrets.flatMap(({object}) => Object.keys(object.stringData).map((key) => `${object.metadata.name}/${key}`)));
    // Every secretKeyRef and every item of a secret volume, wherever it is in the objects.
    const used: string[] = [];
    (function find(node: unknown): void {
      if (Array.isArray(node)) return node.forEach(find);
      if (!node || typeof node !== 'object') return;
      const record = node as Record<string, unknown>;
      const ref = record.secretKeyRef as {name: string; key: string} | undefined;
      if (ref) used.push(`${ref.name}/${ref.key}`);
      const secret = record.secret as {secretName: string; items?: Array<{key: string}>} | undefined;
      // A secret volume without items mounts the whole Secret: "name/" stands for any of its keys.
      if (secret) used.push(...(secret.items?.map((item) => `${secret.secretName}/${item.key}`) ?? [`${secret.secretName}/`]));
      Object.values(record).forEach(find);
    })(kubernetesObjects().map(({object}) => object));
    expect(used.length).toBeGreaterThan(0);
    for (const reference of used) {
      expect(reference.endsWith('/') ? [...described].some((key) => key.startsWith(reference)) : described.has(reference), reference).toBe(
        true,
      );
    }
  });
});

describe('the schema checks themselves', () => {
  it('refuse a compose file with a misspelt key or a wrong type', () => {
    expect(composeProblems({services: {hub: {image: 'x', healthchek: {test: ['CMD', 'true']}}}})).not.toEqual([]);
    expect(composeProblems({services: {hub: {image: 'x', ports: {http: 80}}}})).not.toEqual([]);
    expect(composeProblems({services: {hub: {image: 'x', ports: ['80:80']}}})).toEqual([]);
  });

  it('refuse a Kubernetes object of the wrong shape or an unknown kind', () => {
    const deployment = (port: unknown): KubernetesObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: {name: 'x'},
      spec: {selector: {}, template: {spec: {containers: [{name: 'x', ports: [{containerPort: port}]}]}}},
    });
    expect(kubernetesProblems(deployment(5001))).toEqual([]);
    expect(kubernetesProblems(deployment('5001')).join()).toContain('containerPort must be integer');
    expect(kubernetesProblems({apiVersion: 'apps/v1', kind: 'Deploymnet', metadata: {name: 'x'}})).toEqual([
      'apps/v1 Deploymnet is not a Kubernetes 1.27 API type',
    ]);
    expect(
      kubernetesProblems({apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: {name: 'x'}, spec: {minAvailable: [1]}}),
    ).not.toEqual([]);
  });
});
