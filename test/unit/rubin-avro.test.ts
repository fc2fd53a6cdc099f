import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRubinParquet, rubinMessages } from '../../datasim/rubin.ts';
import { startSchemaRegistry } from '../../datasim/schema-registry-server.ts';
import type { SchemaRegistryServer } from '../../datasim/schema-registry-server.ts';
import { loadConfig } from '../../src/config.ts';
import { InfrastructureError } from '../../src/pipeline/framework.ts';
import { readAvroContainer } from '../../src/pipeline/decode/avro-container.ts';
import {
  RubinDecodeError,
  createRubinDecoder,
  encodeRubinAlert,
  loadRubinSchema,
  parseRubinSchema,
  rubinSchemaId,
  rubinSchemaVersion,
} from '../../src/pipeline/decode/rubin-avro.ts';
import type {
  LoadedRubinSchema,
  RubinAlert,
  RubinDecodeErrorReason,
  RubinDecoder,
} from '../../src/pipeline/decode/rubin-avro.ts';
import {
  SchemaRegistryError,
  createSchemaRegistryClient,
} from '../../src/pipeline/decode/schema-registry.ts';
import type { SchemaRegistryClient } from '../../src/pipeline/decode/schema-registry.ts';

const LSST_DIR = path.join(loadConfig().sharedDir, 'datasim', 'lsst');
const SCHEMA_ROOT = path.join(LSST_DIR, 'schema');
const V10_DIR = path.join(SCHEMA_ROOT, '10', '0');
const PARQUET = path.join(LSST_DIR, 'rubin-2026-01-v10_0.parquet');
const V10_ID = 1000;
const TWO_POW_53 = 2n ** 53n;

async function reasonOf(promise: Promise<unknown>): Promise<RubinDecodeErrorReason | undefined> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof RubinDecodeError) return err.reason;
    throw err;
  }
  return undefined;
}

async function errorOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** A client that counts the lookups reaching it, to see what the decoder caches. */
function countingClient(inner: SchemaRegistryClient): SchemaRegistryClient & { calls: number } {
  const client = {
    calls: 0,
    getSchema(id: number) {
      client.calls++;
      return inner.getSchema(id);
    },
  };
  return client;
}

const CUTOUTS = ['cutoutDifference', 'cutoutScience', 'cutoutTemplate'] as const;

function withoutCutouts(alert: RubinAlert): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(alert).filter(([key]) => !(CUTOUTS as readonly string[]).includes(key)),
  );
}

function expectSameAlert(decoded: RubinAlert, original: RubinAlert): void {
  // Cutouts are compared as bytes: toEqual walks a Buffer element by element, seconds for 25 alerts.
  expect(withoutCutouts(decoded)).toEqual(withoutCutouts(original));
  for (const name of CUTOUTS) {
    const before = original[name];
    const after = decoded[name];
    expect(before).not.toBeNull();
    expect(after !== null && before !== null && after.equals(before)).toBe(true);
  }
  // Exact to the last digit, as bigints (toEqual would also pass a number that happens to be close).
  expect(decoded.diaSourceId).toBe(original.diaSourceId);
  expect(decoded.diaSource.diaObjectId).toBe(original.diaSource.diaObjectId);
  expect(decoded.diaObject?.diaObjectId).toBe(original.diaObject?.diaObjectId);
}

describe('loadRubinSchema', () => {
  it.each(['10.0', '9.0', '7.4'])(
    'assembles %s into one schema equal to the one its fakeAlert.avro embeds, and decodes it',
    (version) => {
      const [major, minor] = version.split('.') as [string, string];
      const dir = path.join(SCHEMA_ROOT, major, minor);
      const schema = loadRubinSchema(dir, version);
      expect(schema.version).toBe(version);
      // Self-contained: no file references left (the JSON parses alone, without the sibling files).
      expect(parseRubinSchema(schema.json).equals(schema.type)).toBe(true);

      const container = readAvroContainer(readFileSync(path.join(dir, 'fakeAlert.avro')));
      expect(schema.type.equals(parseRubinSchema(container.schemaJson))).toBe(true);
      const block = container.blocks[0];
      if (block === undefined) throw new Error('fakeAlert.avro has no block');
      const decoded: { value: unknown; offset: number } = schema.type.decode(block.data, 0);
      expect(decoded.offset).toBe(block.data.length);
      expect(decoded.value).toHaveProperty('diaSource.diaSourceId');
    },
  );

  it('finds the version from the directory when none is given', () => {
    expect(loadRubinSchema(V10_DIR).version).toBe('10.0');
  });

  it('keeps the docs of the referenced files', () => {
    const json = loadRubinSchema(V10_DIR).json;
    expect(json).toContain('Unique identifier of this DiaSource.');
    // Each named type is defined once, then referred to by name (prvDiaSources reuses diaSource).
    expect(json.match(/"name":"lsst\.v10_0\.diaSource"/g)).toHaveLength(1);
  });

  it('maps versions to Rubin schema ids and back', () => {
    expect(rubinSchemaId('10.0')).toBe(1000);
    expect(rubinSchemaId('7.4')).toBe(704);
    expect(rubinSchemaVersion(900)).toBe('9.0');
  });
});

describe('Rubin alerts from the real parquet export', () => {
  let schema: LoadedRubinSchema;
  let alerts: RubinAlert[];
  let messages: Buffer[];
  let registry: SchemaRegistryServer;
  let emptyRegistry: SchemaRegistryServer;

  beforeAll(async () => {
    schema = loadRubinSchema(V10_DIR, '10.0');
    alerts = await readRubinParquet(PARQUET);
    messages = rubinMessages(alerts, V10_ID, schema);
    registry = await startSchemaRegistry({ port: 0, schemas: new Map([[V10_ID, schema.json]]) });
    emptyRegistry = await startSchemaRegistry({ port: 0, schemas: new Map() });
  });

  afterAll(async () => {
    await registry.close();
    await emptyRegistry.close();
  });

  it('reads 25 alerts that validate against the v10.0 schema, with exact ids', () => {
    expect(alerts).toHaveLength(25);
    for (const alert of alerts) {
      expect(schema.type.isValid(alert)).toBe(true);
      expect(alert.diaSourceId).toBeGreaterThan(TWO_POW_53);
      expect(alert.diaSource.diaSourceId).toBe(alert.diaSourceId);
      // The export stored these as doubles; they must come back as the exact ids, not the rounded ones.
      if (alert.diaObject !== null) expect(alert.diaObject.diaObjectId).toBe(alert.diaSource.diaObjectId);
      if (alert.ssSource !== null) {
        expect(alert.ssSource.diaSourceId).toBe(alert.diaSourceId);
        expect(alert.ssSource.ssObjectId).toBe(alert.diaSource.ssObjectId);
      }
    }
    expect(alerts.filter((a) => a.ssSource !== null)).toHaveLength(3);
    expect(alerts.find((a) => a.diaSourceId === 169813006680588318n)?.diaObject?.diaObjectId).toBe(
      169813006680588318n,
    );
  });

  it('frames each message as Confluent wire format: 0x00, the id big-endian, then the Avro body', () => {
    for (const message of messages) {
      expect(message[0]).toBe(0);
      expect(message.readUInt32BE(1)).toBe(V10_ID);
    }
    expect(messages[0]?.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0x03, 0xe8]));
  });

  it('decodes all 25 through a real registry back to the same records, parsing the schema once', async () => {
    const client = countingClient(createSchemaRegistryClient({ url: registry.url, timeoutMs: 5_000 }));
    const decoder = createRubinDecoder({ registry: client });
    const requestsBefore = registry.requests;
    // Concurrently: the first messages all wait for one schema lookup.
    const decoded = await Promise.all(messages.map((message) => decoder.decode(message)));
    decoded.forEach((alert, i) => expectSameAlert(alert, alerts[i] as RubinAlert));
    expect(decoder.parsedSchemas).toBe(1);
    expect(client.calls).toBe(1);
    expect(registry.requests - requestsBefore).toBe(1);

    await decoder.decode(messages[0] as Buffer);
    expect(decoder.parsedSchemas).toBe(1);
    expect(client.calls).toBe(1);
  });

  it('falls back to the local schema directory when the registry does not know the id', async () => {
    const decoder = createRubinDecoder({
      registry: createSchemaRegistryClient({ url: emptyRegistry.url }),
      schemaDirs: new Map([[V10_ID, V10_DIR]]),
    });
    for (const [i, message] of messages.entries()) {
      expectSameAlert(await decoder.decode(message), alerts[i] as RubinAlert);
    }
    expect(decoder.parsedSchemas).toBe(1);
  });

  it('hands out the writer schema with the alert, one string per id', async () => {
    const decoder = createRubinDecoder({ registry: createSchemaRegistryClient({ url: registry.url }) });
    const first = await decoder.decodeWithSchema(messages[0] as Buffer);
    const second = await decoder.decodeWithSchema(messages[1] as Buffer);
    expect(first.schemaId).toBe(V10_ID);
    expect(first.schemaJson).toBe(schema.json);
    expect(second.schemaJson).toBe(first.schemaJson);
    expectSameAlert(second.alert, alerts[1] as RubinAlert);
  });

  it('decodes from the local schema tree alone, by Rubin id numbering', async () => {
    const decoder = createRubinDecoder({ schemaRoot: SCHEMA_ROOT });
    expectSameAlert(await decoder.decode(messages[3] as Buffer), alerts[3] as RubinAlert);
  });

  it('returns to the registry for an id it could not resolve before', async () => {
    const client = countingClient(createSchemaRegistryClient({ url: emptyRegistry.url }));
    const decoder = createRubinDecoder({ registry: client });
    expect(await reasonOf(decoder.decode(messages[0] as Buffer))).toBe('unknown-schema-id');
    expect(await reasonOf(decoder.decode(messages[0] as Buffer))).toBe('unknown-schema-id');
    // Not cached: the id may be registered in between.
    expect(client.calls).toBe(2);
  });

  describe('bad messages get a dead-letter reason', () => {
    let decoder: RubinDecoder;
    beforeAll(() => {
      decoder = createRubinDecoder({
        registry: createSchemaRegistryClient({ url: registry.url }),
      });
    });

    const cases: [string, () => Buffer, RubinDecodeErrorReason][] = [
      ['an empty message', () => Buffer.alloc(0), 'not-confluent-framed'],
      ['a ZTF Avro container file', () => Buffer.from('Obj\x01rest', 'latin1'), 'not-confluent-framed'],
      [
        'a magic byte other than 0',
        () => {
          const message = Buffer.from(messages[0] as Buffer);
          message[0] = 1;
          return message;
        },
        'not-confluent-framed',
      ],
      ['a header cut short', () => Buffer.from([0, 0, 0]), 'truncated'],
      ['a header with no body', () => (messages[0] as Buffer).subarray(0, 5), 'truncated'],
      ['a body cut in half', () => (messages[0] as Buffer).subarray(0, 20_000), 'truncated'],
      [
        'trailing bytes after the datum',
        () => Buffer.concat([messages[0] as Buffer, Buffer.from([1, 2, 3])]),
        'invalid-datum',
      ],
      [
        'an id no registry knows, no local fallback',
        () => {
          const message = Buffer.from(messages[0] as Buffer);
          message.writeUInt32BE(4242, 1);
          return message;
        },
        'unknown-schema-id',
      ],
    ];

    it.each(cases)('%s', async (_name, message, reason) => {
      expect(await reasonOf(decoder.decode(message()))).toBe(reason);
    });

    it('an id with no registry configured and no local schema', async () => {
      expect(await reasonOf(createRubinDecoder().decode(messages[0] as Buffer))).toBe('unknown-schema-id');
    });

    it('a schema 7.4 alert (alertId, not diaSourceId) is missing a field the pipeline needs', async () => {
      const container = readAvroContainer(readFileSync(path.join(SCHEMA_ROOT, '7', '4', 'fakeAlert.avro')));
      const body = container.blocks[0]?.data ?? Buffer.alloc(0);
      const message = Buffer.concat([Buffer.from([0, 0, 0, 0x02, 0xc0]), body]); // id 704
      const local = createRubinDecoder({ schemaRoot: SCHEMA_ROOT });
      expect(await reasonOf(local.decode(message))).toBe('missing-field');
    });
  });

  it('decodes the fakeAlert datums of 10.0 and 9.0 framed under their Rubin ids', async () => {
    const decoder = createRubinDecoder({ schemaRoot: SCHEMA_ROOT });
    for (const version of ['10.0', '9.0']) {
      const [major, minor] = version.split('.') as [string, string];
      const container = readAvroContainer(
        readFileSync(path.join(SCHEMA_ROOT, major, minor, 'fakeAlert.avro')),
      );
      const body = container.blocks[0]?.data ?? Buffer.alloc(0);
      const header = Buffer.alloc(5);
      header.writeUInt32BE(rubinSchemaId(version), 1);
      const alert = await decoder.decode(Buffer.concat([header, body]));
      const embedded = parseRubinSchema(container.schemaJson).decode(body, 0) as {
        value: Record<string, unknown>;
      };
      expect(typeof alert.diaSourceId).toBe('bigint');
      // 9.0 calls the orbit MPCORB; the field the type promises is there too, as null.
      expect(alert).toEqual({ ...embedded.value, mpc_orbits: embedded.value.mpc_orbits ?? null });
    }
    expect(decoder.parsedSchemas).toBe(2);
  });

  it('caches an invalid schema under its id: parsed once, rejected every time', async () => {
    const bad = await startSchemaRegistry({ port: 0, schemas: new Map([[V10_ID, '{"type": "record"']]) });
    try {
      const decoder = createRubinDecoder({ registry: createSchemaRegistryClient({ url: bad.url }) });
      expect(await reasonOf(decoder.decode(messages[0] as Buffer))).toBe('invalid-schema');
      expect(await reasonOf(decoder.decode(messages[1] as Buffer))).toBe('invalid-schema');
      expect(decoder.parsedSchemas).toBe(1);
    } finally {
      await bad.close();
    }
  });

  describe('a registry that cannot be asked', () => {
    let downUrl: string;
    beforeAll(async () => {
      const down = await startSchemaRegistry({ port: 0, schemas: new Map([[V10_ID, schema.json]]) });
      downUrl = down.url;
      await down.close();
    });

    it('is infrastructure, retriable, when no local schema stands in', async () => {
      const decoder = createRubinDecoder({ registry: createSchemaRegistryClient({ url: downUrl }) });
      const err = await errorOf(decoder.decode(messages[0] as Buffer));
      expect(err).toBeInstanceOf(InfrastructureError);
      expect((err as InfrastructureError).retriable).toBe(true);
      expect((err as Error).cause).toBeInstanceOf(SchemaRegistryError);
    });

    it('is bridged by the local schema directory', async () => {
      const decoder = createRubinDecoder({
        registry: createSchemaRegistryClient({ url: downUrl }),
        schemaDirs: new Map([[V10_ID, V10_DIR]]),
      });
      expectSameAlert(await decoder.decode(messages[1] as Buffer), alerts[1] as RubinAlert);
    });

    it('is infrastructure, not retriable, when the URL is not a registry', async () => {
      const decoder = createRubinDecoder({
        registry: createSchemaRegistryClient({ url: `${registry.url}/not-a-registry` }),
      });
      const err = await errorOf(decoder.decode(messages[0] as Buffer));
      expect(err).toBeInstanceOf(InfrastructureError);
      expect((err as InfrastructureError).retriable).toBe(false);
    });
  });

  it('refuses to encode an alert that does not fit the schema, naming the field', () => {
    const alert = alerts[0] as RubinAlert;
    const broken = { ...alert, diaSource: { ...alert.diaSource, visit: 1 } } as unknown as RubinAlert;
    expect(() => encodeRubinAlert(broken, schema, V10_ID)).toThrow(/diaSource\.visit/);
  });
});

describe('createRubinDecoder options', () => {
  it('rejects a configured schema directory that holds no alert schema', () => {
    expect(() => createRubinDecoder({ schemaDirs: new Map([[V10_ID, LSST_DIR]]) })).toThrow(/1000/);
  });
});

describe('createSchemaRegistryClient', () => {
  let registry: SchemaRegistryServer;
  beforeAll(async () => {
    registry = await startSchemaRegistry({ port: 0, schemas: new Map([[7, '"string"']]) });
  });
  afterAll(async () => {
    await registry.close();
  });

  async function registryError(promise: Promise<unknown>): Promise<SchemaRegistryError> {
    const err = await errorOf(promise);
    if (!(err instanceof SchemaRegistryError)) throw err;
    return err;
  }

  it('returns the schema text, cached forever by id', async () => {
    const client = createSchemaRegistryClient({ url: `${registry.url}/` });
    const before = registry.requests;
    const [a, b] = await Promise.all([client.getSchema(7), client.getSchema(7)]);
    expect(a).toBe('"string"');
    expect(b).toBe('"string"');
    expect(await client.getSchema(7)).toBe('"string"');
    expect(registry.requests - before).toBe(1);
  });

  it("tells the registry's 404 for an unknown id from a failure to reach it", async () => {
    const client = createSchemaRegistryClient({ url: registry.url });
    const notFound = await registryError(client.getSchema(8));
    expect(notFound.code).toBe('not-found');
    expect(notFound.status).toBe(404);
    expect(notFound.message).toContain('40403 Schema not found');
    expect(notFound.retriable).toBe(false);

    const down = await startSchemaRegistry({ port: 0, schemas: new Map() });
    await down.close();
    const unreachable = await registryError(createSchemaRegistryClient({ url: down.url }).getSchema(7));
    expect(unreachable.code).toBe('unreachable');
    expect(unreachable.retriable).toBe(true);
    expect(unreachable.message).toContain('ECONNREFUSED');
  });

  it('gives up on a registry that does not answer within the timeout', async () => {
    const silent: Server = createServer(() => {
      // never answers
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const client = createSchemaRegistryClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 100 });
      const err = await registryError(client.getSchema(7));
      expect(err.code).toBe('unreachable');
      expect(err.message).toContain('no answer within 100 ms');
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
