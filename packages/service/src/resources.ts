// Start and stop done one way in every daemon: what a start acquires is registered here, in order,
// with how to release it; stopping releases everything in reverse order, and so does a start that
// fails part way. Each release runs whatever the ones before it did: an error is logged and
// collected, and the next release runs.
import type { Logger } from './logger.js';

export type Release = () => void | Promise<void>;

interface Held {
  readonly name: string;
  readonly release: Release;
  /** A step of an orderly stop (a drain), not a release: skipped when a start fails. */
  readonly stopOnly: boolean;
}

/** Why a release failed: the resource's name and the error. */
export interface ReleaseFailure {
  readonly name: string;
  readonly error: unknown;
}

export class Resources {
  readonly #held: Held[] = [];
  readonly #logger: Logger | undefined;

  constructor(logger?: Logger) {
    this.#logger = logger;
  }

  /** Things held now. */
  get size(): number {
    return this.#held.length;
  }

  /** Registers how to release something just acquired. */
  add(name: string, release: Release): void {
    this.#held.push({ name, release, stopOnly: false });
  }

  /** Registers `value` with its release and returns it. */
  hold<T>(name: string, value: T, release: (value: T) => void | Promise<void>): T {
    this.add(name, () => release(value));
    return value;
  }

  /** Runs `open` and registers the release of what it gives. */
  async acquire<T>(name: string, open: () => T | Promise<T>, release: (value: T) => void | Promise<void>): Promise<T> {
    return this.hold(name, await open(), release);
  }

  /**
   * Registers a step that an orderly stop runs in its place among the releases (a drain: once the
   * things acquired after it are released, before the things acquired before it), and that a
   * failed start skips.
   */
  onStop(name: string, step: Release): void {
    this.#held.push({ name, release: step, stopOnly: true });
  }

  /** Releases everything in reverse order, with the stop steps; returns what failed. */
  stop(): Promise<ReleaseFailure[]> {
    return this.#releaseAll(false);
  }

  /** As stop(), for a start that failed part way: stop steps are skipped. */
  abort(): Promise<ReleaseFailure[]> {
    return this.#releaseAll(true);
  }

  /**
   * stop() where every release is synchronous; a release that returns a promise is not waited for,
   * and its failure is logged when it comes.
   */
  stopSync(): ReleaseFailure[] {
    const failures: ReleaseFailure[] = [];
    for (const held of this.#held.splice(0).reverse()) {
      try {
        const done = held.release();
        if (done instanceof Promise) done.catch((error: unknown) => this.#failed(held.name, error));
      } catch (error) {
        failures.push(this.#failed(held.name, error));
      }
    }
    return failures;
  }

  /**
   * Runs a start that acquires through this object; when it throws, releases what it had acquired
   * (abort) and rethrows its error.
   */
  async start<T>(start: (resources: Resources) => Promise<T>): Promise<T> {
    try {
      return await start(this);
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  async #releaseAll(aborting: boolean): Promise<ReleaseFailure[]> {
    const failures: ReleaseFailure[] = [];
    for (const held of this.#held.splice(0).reverse()) {
      if (aborting && held.stopOnly) continue;
      try {
        await held.release();
      } catch (error) {
        failures.push(this.#failed(held.name, error));
      }
    }
    return failures;
  }

  #failed(name: string, error: unknown): ReleaseFailure {
    this.#logger?.error({ err: error, resource: name }, `releasing ${name} failed; releasing the rest`);
    return { name, error };
  }
}
