/**
 * What `close()` and `destroy()` need from the request path. `close()` refuses new requests and
 * lets every request in flight finish, retries and fault delays included, before it closes the
 * connections; `destroy()` ends every request in flight at once with its error. A request in
 * flight is either inside an endpoint pool (the pools close or destroy it) or waiting on a timer
 * of its own outside any pool (a retry backoff, a fault delay), where only this registry can
 * reach it.
 *
 * The request path pays one counter increment and decrement per routed request; the registry
 * of waiting requests is touched only on the rare paths that wait.
 */

/** A request waiting on its own timer, which `destroy()` must end. */
export interface MeshWaiter {
  /** Ends the request with `err` (the mesh was destroyed). */
  meshDestroyed(err: Error): void;
}

export class MeshLifecycle {
  /** `close()` or `destroy()` was called: new requests are refused. */
  closing = false;
  /** The pools are closing: nothing may dispatch to them any more. */
  closed = false;
  /** Set by `destroy()`: every request in flight ends with this error. */
  destroyedWith: Error | undefined = undefined;
  #active = 0;
  readonly #waiting = new Set<MeshWaiter>();
  #onIdle: (() => void) | undefined;

  /** Routed requests not finished yet. */
  get active(): number {
    return this.#active;
  }

  requestStarted(): void {
    this.#active++;
  }

  requestEnded(): void {
    if (--this.#active === 0 && this.#onIdle !== undefined) {
      const idle = this.#onIdle;
      this.#onIdle = undefined;
      idle();
    }
  }

  /** `waiter` waits on a timer of its own (retry backoff, fault delay). */
  waiting(waiter: MeshWaiter): void {
    this.#waiting.add(waiter);
  }

  /** `waiter`'s timer fired or was cleared. */
  notWaiting(waiter: MeshWaiter): void {
    this.#waiting.delete(waiter);
  }

  /** Resolves once no routed request is in flight. */
  idle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#onIdle;
      this.#onIdle = () => {
        previous?.();
        resolve();
      };
    });
  }

  /** destroy(): ends every waiting request with `err`. */
  destroyWaiting(err: Error): void {
    this.destroyedWith = err;
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const w of waiting) w.meshDestroyed(err);
  }
}
