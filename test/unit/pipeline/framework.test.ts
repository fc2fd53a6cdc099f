// A message never stops a consumer: a stage that throws for one alert dead-letters that alert and the batch goes
// on; only infrastructure errors propagate.
import { describe, expect, it } from 'vitest';
import { drop, InfrastructureError, ok, Pipeline, type StepResult } from '../../../src/pipeline/framework.ts';
import { writeIsolating } from '../../../src/pipeline/services/raw2science.ts';
import { StorageError } from '../../../src/storage/clickhouse.ts';

const inputs = [1, 2, 3, 4, 5, 6, 7, 8];

function kinds(results: StepResult<unknown>[]): string[] {
  return results.map((r) => (r.kind === 'ok' ? 'ok' : `${r.kind}:${r.step}:${r.reason}`));
}

describe('Pipeline.step', () => {
  it('dead-letters the alert a step throws for, as stage-failed with the step, and keeps the others', async () => {
    const pipeline = Pipeline.start<number>().step(function poisonous(n) {
      if (n === 3) throw new TypeError('unforeseen value');
      return ok(n * 10);
    });
    const results = await pipeline.run(inputs);
    expect(kinds(results)).toEqual(['ok', 'ok', 'dlq:poisonous:stage-failed', 'ok', 'ok', 'ok', 'ok', 'ok']);
    const letter = results[2]!;
    expect(letter.kind === 'dlq' && (letter.error as Error).message).toBe('unforeseen value');
  });

  it('dead-letters every alert a step throws for, even all of them (a message never stops a consumer)', async () => {
    const pipeline = Pipeline.start<number>().step(function broken(): StepResult<number> {
      throw new RangeError('bad value');
    });
    expect(kinds(await pipeline.run([1, 2]))).toEqual(['dlq:broken:stage-failed', 'dlq:broken:stage-failed']);
  });

  it('propagates infrastructure errors', async () => {
    const pipeline = Pipeline.start<number>().step(function reads(n): Promise<StepResult<number>> {
      return n === 2
        ? Promise.reject(new StorageError('connect ECONNREFUSED', 'unavailable'))
        : Promise.resolve(ok(n));
    });
    await expect(pipeline.run(inputs)).rejects.toThrow('ECONNREFUSED');
  });

  it('takes synchronous and asynchronous answers and throws alike, in input order', async () => {
    const pipeline = Pipeline.start<number>().step(function mixed(n):
      StepResult<number> | Promise<StepResult<number>> {
      if (n === 2) throw new TypeError('sync throw');
      if (n === 4) return Promise.reject(new TypeError('async throw'));
      if (n === 5) return Promise.resolve(drop('late'));
      return n % 2 === 0 ? Promise.resolve(ok(n * 10)) : ok(n * 10);
    });
    const results = await pipeline.run(inputs);
    expect(kinds(results)).toEqual([
      'ok',
      'dlq:mixed:stage-failed',
      'ok',
      'dlq:mixed:stage-failed',
      'drop:mixed:late',
      'ok',
      'ok',
      'ok',
    ]);
    expect(results.map((r) => (r.kind === 'ok' ? r.value : null))).toEqual([
      10,
      null,
      30,
      null,
      null,
      60,
      70,
      80,
    ]);
    const sync = Pipeline.start<number>().step(function reads(n): StepResult<number> {
      if (n === 3) throw new StorageError('connect ECONNREFUSED', 'unavailable');
      return ok(n);
    });
    await expect(sync.run(inputs)).rejects.toThrow('ECONNREFUSED');
  });
});

describe('Pipeline.batch', () => {
  /** A batch stage that throws for any batch holding a poison input, and counts its calls. */
  function batchStage(poison: ReadonlySet<number>, error: () => Error = () => new TypeError('poison')) {
    const calls: number[][] = [];
    const stage = async function lookup(batch: readonly number[]): Promise<StepResult<number>[]> {
      calls.push([...batch]);
      if (batch.some((n) => poison.has(n))) throw error();
      return Promise.resolve(batch.map((n) => ok(n)));
    };
    return { stage, calls };
  }

  it('finds the alerts that make a batch stage throw by halves, dead-letters them, and keeps the others', async () => {
    const { stage, calls } = batchStage(new Set([3, 8]));
    const results = await Pipeline.start<number>().batch(stage).run(inputs);
    expect(kinds(results)).toEqual([
      'ok',
      'ok',
      'dlq:lookup:stage-failed',
      'ok',
      'ok',
      'ok',
      'ok',
      'dlq:lookup:stage-failed',
    ]);
    // Bisection, not one call per alert: 1 + 2 + 4 + 4 calls for two poisons in eight.
    expect(calls.length).toBeLessThan(inputs.length + 4);
  });

  it('propagates a retriable error without splitting the batch (the caller retries the whole)', async () => {
    const { stage, calls } = batchStage(new Set([3]), () => new InfrastructureError('down', true));
    await expect(Pipeline.start<number>().batch(stage).run(inputs)).rejects.toThrow('down');
    expect(calls).toHaveLength(1);
  });

  it('propagates a non-retriable storage error that every alert hits alone (a missing table)', async () => {
    const { stage } = batchStage(
      new Set(inputs),
      () => new StorageError('Table fink.x does not exist', 'query-failed'),
    );
    await expect(Pipeline.start<number>().batch(stage).run(inputs)).rejects.toThrow('does not exist');
  });

  it('dead-letters the one alert a non-retriable storage error is about', async () => {
    const { stage } = batchStage(new Set([5]), () => new StorageError('value out of range', 'query-failed'));
    const results = await Pipeline.start<number>().batch(stage).run(inputs);
    expect(kinds(results).filter((k) => k !== 'ok')).toEqual(['dlq:lookup:stage-failed']);
  });
});

describe('writeIsolating', () => {
  function writer(
    poison: ReadonlySet<number>,
    error: () => Error = () => new RangeError('value out of range'),
  ) {
    const written: number[] = [];
    const write = (part: readonly number[]) => {
      if (part.some((n) => poison.has(n))) return Promise.reject(error());
      written.push(...part);
      return Promise.resolve();
    };
    return { write, written };
  }

  it('writes everything at once when nothing is refused', async () => {
    const { write, written } = writer(new Set());
    expect(await writeIsolating(inputs, write)).toEqual([]);
    expect(written).toEqual(inputs);
  });

  it('returns the alerts refused alone and writes the others', async () => {
    const { write, written } = writer(new Set([2, 7]));
    const refused = await writeIsolating(inputs, write);
    expect(refused.map((r) => r.item)).toEqual([2, 7]);
    expect((refused[0]!.error as Error).message).toBe('value out of range');
    expect(written.sort()).toEqual([1, 3, 4, 5, 6, 8]);
  });

  it('propagates retriable errors and a storage error every alert hits alone', async () => {
    await expect(
      writeIsolating(inputs, writer(new Set([1]), () => new StorageError('ECONNRESET', 'unavailable')).write),
    ).rejects.toThrow('ECONNRESET');
    await expect(
      writeIsolating(
        inputs,
        writer(new Set(inputs), () => new StorageError('no table', 'query-failed')).write,
      ),
    ).rejects.toThrow('no table');
  });
});
