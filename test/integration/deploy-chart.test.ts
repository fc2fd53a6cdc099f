// The Helm chart (deploy/helm/fink), validated offline by scripts/check-deploy.sh: helm lint, helm template with
// three value sets, kubeconform -strict against the Kubernetes schemas. No cluster, no Kafka, no ClickHouse: this
// file reads the renderings the script leaves and checks what the schemas cannot (names, wiring, the broker's own
// config file, the operators' resources, which have no schema available offline).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { PROJECT_ROOT } from '../../src/project.ts';
import { metricsPortOffset } from '../../src/cli/services.ts';

interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface Container {
  name: string;
  command: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[];
  securityContext: { readOnlyRootFilesystem: boolean; allowPrivilegeEscalation: boolean };
  livenessProbe?: { httpGet?: { path: string; port: string } };
}

interface PodSpec {
  securityContext: { runAsNonRoot: boolean };
  containers: Container[];
}

const VARIANTS = ['default', 'rubin', 'operators'] as const;
type Variant = (typeof VARIANTS)[number];
const OPERATOR_KINDS = ['Kafka', 'KafkaNodePool', 'ClickHouseInstallation', 'ClickHouseKeeperInstallation'];
const PIPELINE = ['stream2raw', 'raw2science', 'distribution'];

let outDir: string;
let check: { code: number | null; output: string };
const rendered = {} as Record<Variant, Resource[]>;

function runCheck(out: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [path.join(PROJECT_ROOT, 'scripts', 'check-deploy.sh'), '--out', out], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output }));
  });
}

function find(variant: Variant, kind: string, name: string): Resource {
  const resource = rendered[variant].find((r) => r.kind === kind && r.metadata.name === name);
  if (resource === undefined) throw new Error(`${variant}: no ${kind} ${name}`);
  return resource;
}

function podSpec(resource: Resource): PodSpec {
  return (resource.spec as { template: { spec: PodSpec } }).template.spec;
}

/** The broker's config file the ConfigMap holds, loaded by the broker's own loader. */
function brokerConfig(variant: Variant, drop: (file: Record<string, unknown>) => void = () => undefined) {
  const text = find(variant, 'ConfigMap', 'fink-config').data?.['fink.yaml'] ?? '';
  const file = parseAllDocuments(text)[0]!.toJS() as Record<string, unknown>;
  drop(file);
  const where = path.join(outDir, `${variant}-fink.json`);
  writeFileSync(where, JSON.stringify(file));
  return { file, config: loadConfig({ file: where, env: {} }) };
}

beforeAll(async () => {
  outDir = mkdtempSync(path.join(tmpdir(), 'fink-deploy-'));
  // The first run installs helm and kubeconform (go install) and the schemas (pip download): minutes, once.
  check = await runCheck(outDir);
  for (const variant of VARIANTS) {
    const text = readFileSync(path.join(outDir, `${variant}.yaml`), 'utf8');
    rendered[variant] = parseAllDocuments(text)
      .map((doc) => doc.toJS() as Resource | null)
      .filter((r): r is Resource => r !== null);
  }
}, 1_800_000);

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('scripts/check-deploy.sh', () => {
  it('lints and validates every rendering, skipping only the operator resources', () => {
    expect(check.output).not.toMatch(/\[ERROR\]|\[WARNING\]/);
    const summaries = [
      ...check.output.matchAll(
        /Summary: (\d+) resources? found .* Valid: (\d+), Invalid: (\d+), Errors: (\d+), Skipped: (\d+)/g,
      ),
    ];
    expect(summaries).toHaveLength(3);
    VARIANTS.forEach((variant, i) => {
      const [, found, valid, invalid, errors, skipped] = summaries[i]!.map(Number);
      const operatorResources = rendered[variant].filter((r) => OPERATOR_KINDS.includes(r.kind)).length;
      expect({ variant, found, invalid, errors, skipped }).toEqual({
        variant,
        found: rendered[variant].length,
        invalid: 0,
        errors: 0,
        skipped: operatorResources,
      });
      expect(valid).toBe(rendered[variant].length - operatorResources);
    });
    expect(check.code).toBe(0);
  });
});

describe('deploy/helm/fink', () => {
  it.each(VARIANTS)('%s: four Deployments, the server Service and the migration Job', (variant) => {
    const names = (kind: string) =>
      rendered[variant]
        .filter((r) => r.kind === kind)
        .map((r) => r.metadata.name)
        .sort();
    expect(names('Deployment')).toEqual([
      'fink-distribution',
      'fink-raw2science',
      'fink-server',
      'fink-stream2raw',
    ]);
    expect(names('Service')).toEqual(['fink-server']);
    expect(names('Job')).toEqual(['fink-migrate']);
    expect(names('Ingress')).toEqual([]);
    const job = find(variant, 'Job', 'fink-migrate');
    expect(job.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    expect(podSpec(job).containers[0]!.command).toEqual(['node', 'bin/fink.js', 'migrate']);
    // Its config is a hook copy: the release's own ConfigMap does not exist yet when pre-install hooks run.
    expect(find(variant, 'ConfigMap', 'fink-migrate').metadata.annotations?.['helm.sh/hook']).toBe(
      'pre-install,pre-upgrade',
    );
  });

  it('runs a command the broker has: `fink migrate`', () => {
    const help = spawnSync(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'fink.js'), 'migrate', '--help'],
      {
        encoding: 'utf8',
      },
    );
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('apply the migrations');
  });

  it.each(VARIANTS)('%s: every pod runs as non-root on a read-only root file system', (variant) => {
    const workloads = rendered[variant].filter((r) => r.kind === 'Deployment' || r.kind === 'Job');
    expect(workloads).toHaveLength(5);
    for (const workload of workloads) {
      const spec = podSpec(workload);
      expect(spec.securityContext.runAsNonRoot).toBe(true);
      for (const container of spec.containers) {
        expect(container.securityContext).toMatchObject({
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
        });
      }
    }
  });

  it('probes each pipeline service on the metrics port the broker opens for it (metricsPort + its offset)', () => {
    const { config } = brokerConfig('default');
    expect(config.pipeline.metricsHost).toBe('0.0.0.0');
    for (const service of PIPELINE) {
      const container = podSpec(find('default', 'Deployment', `fink-${service}`)).containers[0]!;
      expect(container.command).toEqual([
        'node',
        expect.stringMatching(/^--max-old-space-size=\d+$/),
        'bin/fink.js',
        'run',
        service,
      ]);
      expect(container.ports).toEqual([
        {
          name: 'metrics',
          containerPort: config.pipeline.metricsPort + metricsPortOffset(service),
          protocol: 'TCP',
        },
      ]);
      expect(container.livenessProbe?.httpGet).toEqual({ path: '/metrics', port: 'metrics' });
    }
    const server = podSpec(find('default', 'Deployment', 'fink-server')).containers[0]!;
    expect(server.ports).toEqual([{ name: 'http', containerPort: config.server.port, protocol: 'TCP' }]);
    expect(server.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
  });

  it.each(['default', 'rubin'] as const)(
    '%s: the ConfigMap is a valid broker config for external servers',
    (variant) => {
      const { config } = brokerConfig(variant);
      expect(config.clickhouse).toMatchObject({ mode: 'external', url: 'http://clickhouse:8123' });
      expect(config.kafka).toMatchObject({ mode: 'external', brokers: ['kafka-bootstrap:9092'] });
      expect(config.server.host).toBe('0.0.0.0');
      expect(config.stateDir).toBe('/tmp/fink');
      expect(rendered[variant].filter((r) => OPERATOR_KINDS.includes(r.kind))).toEqual([]);
    },
  );

  it('rubin: sized from docs/deployment.md', () => {
    const replicas = (name: string) =>
      (find('rubin', 'Deployment', name).spec as { replicas: number }).replicas;
    expect([
      replicas('fink-stream2raw'),
      replicas('fink-raw2science'),
      replicas('fink-distribution'),
    ]).toEqual([2, 3, 3]);
    expect(brokerConfig('rubin').config.pipeline.batchMaxMessages).toBe(2000);
  });

  it('operators: a Strimzi KRaft cluster of 3 brokers, replication 3, min.insync.replicas 2', () => {
    const pool = find('operators', 'KafkaNodePool', 'fink-kafka-dual');
    expect(pool.metadata.labels?.['strimzi.io/cluster']).toBe('fink-kafka');
    expect(pool.spec).toMatchObject({ replicas: 3, roles: ['controller', 'broker'] });
    const kafka = find('operators', 'Kafka', 'fink-kafka');
    expect(kafka.metadata.annotations).toMatchObject({
      'strimzi.io/node-pools': 'enabled',
      'strimzi.io/kraft': 'enabled',
    });
    expect((kafka.spec as { kafka: { config: Record<string, unknown> } }).kafka.config).toMatchObject({
      'default.replication.factor': 3,
      'min.insync.replicas': 2,
      'offsets.topic.replication.factor': 3,
      'unclean.leader.election.enable': false,
    });
  });

  it('operators: an Altinity ClickHouse of 2 shards x 2 replicas with Keeper, and the services pointed at both', () => {
    const chi = find('operators', 'ClickHouseInstallation', 'fink-ch');
    const configuration = (chi.spec as { configuration: Record<string, unknown> }).configuration as {
      clusters: { name: string; layout: Record<string, number> }[];
      zookeeper: { nodes: { host: string; port: number }[] };
      users: Record<string, unknown>;
    };
    expect(configuration.clusters).toEqual([{ name: 'fink', layout: { shardsCount: 2, replicasCount: 2 } }]);
    expect(configuration.zookeeper.nodes).toEqual([{ host: 'keeper-fink-keeper', port: 2181 }]);
    expect(configuration.users['fink/k8s_secret_password']).toBe('fink-clickhouse/clickhouse-password');
    const chk = find('operators', 'ClickHouseKeeperInstallation', 'fink-keeper');
    expect((chk.spec as { configuration: unknown }).configuration).toEqual({
      clusters: [{ name: 'keeper', layout: { replicasCount: 3 } }],
    });
    // clickhouse.cluster is the key of cluster mode (issue 13, part 1); checked here, then left out for a loader
    // that does not know it yet.
    const { file, config } = brokerConfig('operators', (f) => {
      expect((f.clickhouse as Record<string, unknown>).cluster).toBe('fink');
      delete (f.clickhouse as Record<string, unknown>).cluster;
    });
    expect(file).toBeDefined();
    expect(config.clickhouse.url).toBe('http://clickhouse-fink-ch:8123');
    expect(config.kafka.brokers).toEqual(['fink-kafka-kafka-bootstrap:9092']);
    for (const name of ['fink-stream2raw', 'fink-raw2science', 'fink-distribution', 'fink-server']) {
      const env = podSpec(find('operators', 'Deployment', name)).containers[0]!.env ?? [];
      expect(env.find((e) => e.name === 'FINK_CLICKHOUSE__PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
        name: 'fink-clickhouse',
        key: 'clickhouse-password',
      });
    }
  });
});
