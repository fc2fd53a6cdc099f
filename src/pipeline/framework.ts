// The pipeline's small vocabulary: what a stage returns, how stages compose, how infrastructure is retried.
//
// Expected outcomes are values: `ok(alert)`, `drop('rb-below-0.55')`, `dlq('avro-decode-failed', err)`.
// Broken infrastructure is an `InfrastructureError` or a `StorageError` (both carry `retriable`, as kafkajs's
// errors do): it propagates, so no offset is committed past the batch that hit it, and the caller retries what
// is retriable. Anything else a stage throws is about one alert, not the stream (a value no test foresaw): the
// alert it threw for goes to the dead-letter topic as 'stage-failed' with the stage and the error, and the
// other alerts of the batch go on. A message never stops a consumer; only infrastructure does.
import { setTimeout as delay } from 'node:timers/promises';

export type StepResult<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'drop'; reason: string; step?: string }
  | { kind: 'dlq'; reason: string; error?: unknown; step?: string };

export type Rejected = Exclude<StepResult<never>, { kind: 'ok' }>;

export function ok<T>(value: T): StepResult<T> {
  return { kind: 'ok', value };
}

/** The alert is valid but not for this path (fails a quality cut): counted, not an error. */
export function drop(reason: string): Rejected {
  return { kind: 'drop', reason };
}

/** The message cannot be processed (corrupt, unknown schema): goes to the dead-letter topic with the reason. */
export function dlq(reason: string, error?: unknown): Rejected {
  return { kind: 'dlq', reason, error };
}

/** A stage on one alert. Named functions: the name shows in stack traces and metrics. */
export type Step<In, Out> = (input: In) => StepResult<Out> | Promise<StepResult<Out>>;

/**
 * A stage on a whole batch, for work that is cheaper in bulk (one catalog query per batch, not per alert).
 * Returns one result per input, in the same order.
 */
export type BatchStep<In, Out> = (inputs: readonly In[]) => Promise<StepResult<Out>[]>;

/** Errors about the infrastructure (Kafka, ClickHouse, a registry), as opposed to one alert's values. */
export function isInfrastructureError(error: unknown): boolean {
  return (
    error instanceof InfrastructureError ||
    (typeof error === 'object' && error !== null && 'retriable' in error)
  );
}

function isRetriable(error: unknown): boolean {
  return (error as { retriable?: unknown } | null)?.retriable === true;
}

/** What a step threw for one alert, kept beside the other alerts' results. */
class Thrown {
  constructor(readonly error: unknown) {}
}

/** The dead letter of an alert whose stage threw (see the header). */
function stageFailed(error: unknown): Rejected {
  return dlq('stage-failed', error);
}

export class InfrastructureError extends Error {
  override name = 'InfrastructureError';
  constructor(
    message: string,
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A chain of stages over a batch. Rejected alerts leave the chain at the stage that rejected them. */
export class Pipeline<In, Out> {
  private constructor(private readonly stages: { name: string; run: BatchStep<unknown, unknown> }[]) {}

  static start<T>(): Pipeline<T, T> {
    return new Pipeline<T, T>([]);
  }

  /** Adds a per-alert stage. An alert it throws for is dead-lettered, unless the error is infrastructure's. */
  step<Next>(step: Step<Out, Next>): Pipeline<In, Next> {
    const run: BatchStep<Out, Next> = async (inputs) => {
      // A step may answer synchronously or with a promise, or throw. Synchronous answers are taken as they are
      // (most steps: no promise per alert and step); promises are awaited together.
      const outcomes = inputs.map((input): StepResult<Next> | Thrown | Promise<StepResult<Next> | Thrown> => {
        try {
          const result = step(input);
          return result instanceof Promise ? result.catch((error: unknown) => new Thrown(error)) : result;
        } catch (error) {
          return new Thrown(error);
        }
      });
      const settled = outcomes.some((outcome) => outcome instanceof Promise)
        ? await Promise.all(outcomes.map(async (outcome) => outcome))
        : (outcomes as (StepResult<Next> | Thrown)[]);
      const infrastructure = settled.find((s) => s instanceof Thrown && isInfrastructureError(s.error));
      if (infrastructure instanceof Thrown) throw infrastructure.error;
      return settled.map((s) => (s instanceof Thrown ? stageFailed(s.error) : s));
    };
    return this.add(step.name, run);
  }

  /**
   * Adds a whole-batch stage. When it throws anything but a retriable error, the alerts that make it throw are
   * found by running the stage on halves of the batch, down to single alerts, and dead-lettered; the others get
   * their results (a few more calls, on a path only bad input takes). A non-retriable infrastructure error
   * (a missing table) that every alert hits alone is the stage's, not the alerts': it propagates.
   */
  batch<Next>(step: BatchStep<Out, Next>): Pipeline<In, Next> {
    const run: BatchStep<Out, Next> = async (inputs) => {
      try {
        return await step(inputs);
      } catch (error) {
        if (isRetriable(error)) throw error;
        const results = await bisect(step, inputs, error);
        const allFailed = results.every((r) => r.kind === 'dlq' && r.reason === 'stage-failed');
        if (allFailed && isInfrastructureError(error)) throw error;
        return results;
      }
    };
    return this.add(step.name, run);
  }

  get stageNames(): string[] {
    return this.stages.map((stage) => stage.name);
  }

  /** Runs the batch through every stage; result i belongs to input i. */
  async run(inputs: readonly In[]): Promise<StepResult<Out>[]> {
    let results: StepResult<unknown>[] = inputs.map((input) => ok(input));
    for (const stage of this.stages) {
      const live: number[] = [];
      results.forEach((result, i) => {
        if (result.kind === 'ok') live.push(i);
      });
      if (live.length === 0) break;
      const outputs = await stage.run(live.map((i) => (results[i] as { value: unknown }).value));
      if (outputs.length !== live.length) {
        throw new Error(`stage ${stage.name} returned ${outputs.length} results for ${live.length} inputs`);
      }
      results = [...results];
      live.forEach((inputIndex, k) => {
        const output = outputs[k]!;
        results[inputIndex] = output.kind === 'ok' ? output : { ...output, step: output.step ?? stage.name };
      });
    }
    return results as StepResult<Out>[];
  }

  private add<Next>(name: string, run: BatchStep<Out, Next>): Pipeline<In, Next> {
    return new Pipeline<In, Next>([
      ...this.stages,
      { name: name || 'anonymous', run: run as BatchStep<unknown, unknown> },
    ]);
  }
}

/** The results of `inputs`, whose batch threw `error`: each half is tried alone, down to single alerts. */
async function bisect<In, Out>(
  step: BatchStep<In, Out>,
  inputs: readonly In[],
  error: unknown,
): Promise<StepResult<Out>[]> {
  if (inputs.length === 1) return [stageFailed(error)];
  const middle = Math.ceil(inputs.length / 2);
  return [...(await attempt(step, inputs.slice(0, middle))), ...(await attempt(step, inputs.slice(middle)))];
}

async function attempt<In, Out>(step: BatchStep<In, Out>, inputs: readonly In[]): Promise<StepResult<Out>[]> {
  try {
    return await step(inputs);
  } catch (error) {
    if (isRetriable(error)) throw error;
    return bisect(step, inputs, error);
  }
}

export interface RetryOptions {
  /** First wait; doubles each attempt up to maxDelayMs. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Attempts in all; Infinity retries until the signal aborts (a ClickHouse outage must not lose alerts). */
  attempts?: number;
  signal?: AbortSignal;
  isRetriable?: (error: unknown) => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Retries `operation` with exponential backoff while its error is retriable. */
export async function retry<T>(operation: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const {
    initialDelayMs = 200,
    maxDelayMs = 10_000,
    attempts = Infinity,
    signal,
    isRetriable = (error) => (error as { retriable?: unknown }).retriable === true,
    onRetry,
  } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation();
    } catch (error) {
      if (attempt >= attempts || !isRetriable(error) || isAborted(signal)) throw error;
      const wait = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
      onRetry?.(error, attempt, wait);
      await delay(wait, undefined, signal === undefined ? {} : { signal }).catch(() => undefined);
      if (isAborted(signal)) throw error;
    }
  }
}

function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
