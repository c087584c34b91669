/**
 * Fault injection: added latency, error responses, dropped connections (before or after the
 * write is applied), held requests and per-row errors inside batch requests.
 *
 * Deterministic for a given seed whatever order requests arrive in: whether a `probability` fault
 * hits a request is decided by a hash of the seed, the fault, the request's body and its attempt
 * (how many identical requests came before it), see `fault-draw.ts`.
 *
 * @packageDocumentation
 */
import { OTS_ERROR_MESSAGE, statusForCode } from './errors.js';
import { AttemptCounter, stringHash, unitDraw, type RequestIdentity } from './fault-draw.js';
import { HoldQueue, type ClosableResponse, type HoldMode } from './fault-holds.js';

export type { HoldMode } from './fault-holds.js';

/** How a dropped connection relates to applying the request. */
export type DropMode = 'before-apply' | 'after-apply';

/** A per-row error injected into BatchWriteRow (or BatchGetRow) results. */
export interface RowErrorSpec {
  /** OTS error code reported for the row, e.g. `OTSServerBusy`. */
  readonly code: string;
  /** Message reported for the row. @default the service's message for the code */
  readonly message?: string;
}

/** Selects each row of a batch independently with this probability (seeded, by the request's content). */
export interface RowProbability {
  /** Probability from 0 to 1. */
  readonly probability: number;
}

/**
 * What to inject. Exactly one of `code`, `drop`, `rowError` or `hold` (optionally with
 * `latencyMs`), or `latencyMs` alone.
 *
 * @example
 * ```ts
 * emu.faults.inject({ api: 'BatchWriteRow', code: 'OTSServerBusy', times: 3 });
 * emu.faults.inject({ api: 'PutRow', drop: 'after-apply', times: 1 });   // the ambiguous write
 * emu.faults.inject({ api: 'BatchWriteRow', rowError: { code: 'OTSServerBusy' }, rows: [0, 2], times: 1 });
 * emu.faults.inject({ latencyMs: 50 });                                   // every API, until cleared
 * emu.faults.inject({ api: 'PutRow', hold: 'until-released', times: 1 }); // in flight until release()
 * await emu.faults.whenHeld(1);
 * await emu.faults.release();                                             // applied by now
 * ```
 */
export interface FaultSpec {
  /** API name(s) the fault applies to (`'PutRow'`, …) or `'*'`. @default '*' (every API) */
  readonly api?: string | readonly string[];
  /** Milliseconds added before the request is handled. */
  readonly latencyMs?: number;
  /** Answer with this OTS error code instead of handling the request; nothing is applied. */
  readonly code?: string;
  /** HTTP status for `code`. @default the service's status for the code (503 for OTSServerBusy, …; 500 if unknown) */
  readonly status?: number;
  /** Error message for `code`. @default the service's message for the code */
  readonly message?: string;
  /**
   * Destroy the connection without a response. `'before-apply'`: nothing is applied.
   * `'after-apply'`: the request is applied (and persisted) first: the client cannot tell.
   */
  readonly drop?: DropMode;
  /** Fail some rows of a batch request with this error; those rows are not applied. */
  readonly rowError?: RowErrorSpec;
  /**
   * Hold the request, neither applied nor answered, until {@link FaultController.release}
   * (`'until-released'`) or until the client closes the connection, e.g. on its request timeout
   * (`'until-disconnect'`); then handle it as usual. Closing the emulator releases it too.
   */
  readonly hold?: HoldMode;
  /** Which rows `rowError` hits: indexes in request order (across tables), or each row with a probability. @default every row */
  readonly rows?: readonly number[] | RowProbability;
  /** Fire on this many matching requests (in arrival order), then retire. @default unlimited */
  readonly times?: number;
  /**
   * Fire on a matching request with this probability: decided by a hash of the seed, the spec, the
   * request's body and its attempt, so the same requests are hit whatever order they arrive in.
   * @default 1
   */
  readonly probability?: number;
}

/** A fault as listed by {@link FaultController.list}. */
export interface FaultInfo extends FaultSpec {
  /** Identifier to pass to {@link FaultController.remove}. */
  readonly id: string;
  /** How many times it has fired. */
  readonly fired: number;
  /** Firings left, when `times` was given. */
  readonly remaining?: number;
}

/** @internal The resolved effect of the faults on one request. */
export interface FaultDecision {
  readonly latencyMs: number;
  readonly error?: { readonly code: string; readonly status: number; readonly message: string } | undefined;
  readonly drop?: DropMode | undefined;
  readonly hold?: HoldMode | undefined;
  /** Returns the injected error for batch row `index` (request order), if any. */
  readonly rowError: (index: number) => { readonly code: string; readonly message: string } | undefined;
  /** Number of faults that fired (for stats). */
  readonly fired: number;
}

interface ActiveFault {
  readonly id: string;
  /** Salt of this fault's draws: a hash of the spec and how many identical specs came before it. */
  readonly salt: number;
  readonly spec: FaultSpec;
  readonly apis: ReadonlySet<string> | undefined;
  fired: number;
  remaining: number | undefined;
}

function checkNumber(v: unknown, name: string, min: number, max = Number.POSITIVE_INFINITY): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    throw new TypeError(`Expected \`${name}\` to be a number from ${min}${max === Number.POSITIVE_INFINITY ? ' and up' : ` to ${max}`}, got ${String(v)}`);
  }
}

/** Validates a fault spec (also used for specs that arrive as JSON over HTTP). */
export function validateFaultSpec(input: unknown): FaultSpec {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('Expected a fault spec object');
  const spec = input as Record<string, unknown>;
  const known = new Set(['api', 'latencyMs', 'code', 'status', 'message', 'drop', 'hold', 'rowError', 'rows', 'times', 'probability']);
  for (const k of Object.keys(spec)) if (!known.has(k)) throw new TypeError(`Unknown fault option \`${k}\``);
  const api = spec.api;
  if (api !== undefined && typeof api !== 'string' && !(Array.isArray(api) && api.every((a) => typeof a === 'string'))) {
    throw new TypeError('Expected `api` to be an API name, `*`, or an array of API names');
  }
  checkNumber(spec.latencyMs, 'latencyMs', 0);
  checkNumber(spec.status, 'status', 100, 599);
  checkNumber(spec.times, 'times', 1);
  if (spec.times !== undefined && !Number.isInteger(spec.times)) throw new TypeError('Expected `times` to be an integer');
  checkNumber(spec.probability, 'probability', 0, 1);
  if (spec.code !== undefined && (typeof spec.code !== 'string' || spec.code === '')) throw new TypeError('Expected `code` to be an OTS error code such as `OTSServerBusy`');
  if (spec.message !== undefined && typeof spec.message !== 'string') throw new TypeError('Expected `message` to be a string');
  if (spec.drop !== undefined && spec.drop !== 'before-apply' && spec.drop !== 'after-apply') {
    throw new TypeError("Expected `drop` to be 'before-apply' or 'after-apply'");
  }
  if (spec.hold !== undefined && spec.hold !== 'until-released' && spec.hold !== 'until-disconnect') {
    throw new TypeError("Expected `hold` to be 'until-released' or 'until-disconnect'");
  }
  if (spec.rowError !== undefined) {
    const re = spec.rowError as Record<string, unknown> | null;
    if (typeof re !== 'object' || re === null || typeof re.code !== 'string' || (re.message !== undefined && typeof re.message !== 'string')) {
      throw new TypeError('Expected `rowError` to be `{ code: string, message?: string }`');
    }
  }
  if (spec.rows !== undefined) {
    const rows = spec.rows as unknown;
    const okIndexes = Array.isArray(rows) && rows.every((i) => Number.isInteger(i) && (i as number) >= 0);
    const okProb = typeof rows === 'object' && rows !== null && !Array.isArray(rows) && typeof (rows as { probability?: unknown }).probability === 'number';
    if (!okIndexes && !okProb) throw new TypeError('Expected `rows` to be an array of row indexes or `{ probability }`');
    if (okProb) checkNumber((rows as { probability: number }).probability, 'rows.probability', 0, 1);
    if (spec.rowError === undefined) throw new TypeError('`rows` only applies together with `rowError`');
  }
  const kinds = [spec.code, spec.drop, spec.rowError, spec.hold].filter((k) => k !== undefined).length;
  if (kinds > 1) throw new TypeError('A fault takes only one of `code`, `drop`, `rowError` or `hold`');
  if (kinds === 0 && (spec.latencyMs === undefined || spec.latencyMs === 0)) {
    throw new TypeError('A fault needs `code`, `drop`, `rowError`, `hold` or `latencyMs`');
  }
  if ((spec.status !== undefined || spec.message !== undefined) && spec.code === undefined) {
    throw new TypeError('`status` and `message` only apply together with `code`');
  }
  return spec as FaultSpec;
}

/** Injects faults into the emulator; reachable as `emu.faults`. */
export class FaultController {
  readonly #faults: ActiveFault[] = [];
  #nextId = 1;
  readonly #seed: number;
  readonly #attempts = new AttemptCounter();
  readonly #holds = new HoldQueue();

  /** @param seed - seed of the draws behind `probability` and `rows.probability` */
  constructor(seed: number) {
    this.#seed = seed >>> 0;
  }

  /**
   * Adds a fault and returns its id.
   *
   * @throws TypeError when the spec is malformed.
   */
  inject(spec: FaultSpec): string {
    const s = validateFaultSpec(spec);
    const id = `f${this.#nextId++}`;
    const apis = s.api === undefined || s.api === '*' ? undefined : new Set(typeof s.api === 'string' ? [s.api] : s.api);
    const text = JSON.stringify(s);
    const twins = this.#faults.filter((f) => JSON.stringify(f.spec) === text).length;
    this.#faults.push({ id, salt: (stringHash(text) ^ twins) >>> 0, spec: s, apis: apis?.has('*') ? undefined : apis, fired: 0, remaining: s.times });
    return id;
  }

  /** Removes one fault; returns `false` when there was none with that id. */
  remove(id: string): boolean {
    const i = this.#faults.findIndex((f) => f.id === id);
    if (i < 0) return false;
    this.#faults.splice(i, 1);
    return true;
  }

  /**
   * Removes every fault and forgets the requests seen, so attempts count from 0 again. Requests
   * held now stay held until {@link FaultController.release}.
   */
  clear(): void {
    this.#faults.length = 0;
    this.#attempts.clear();
  }

  /** Requests held by `hold` faults now. */
  held(): number {
    return this.#holds.size;
  }

  /**
   * Lets every held request go on; resolves with how many there were once they have been handled
   * (a released write is applied by then).
   */
  release(): Promise<number> {
    return this.#holds.release();
  }

  /**
   * Resolves once at least `atLeast` requests are held at once (with how many are), or rejects
   * after `timeoutMs`: wait for this instead of sleeping and hoping a request is in flight.
   */
  whenHeld(atLeast = 1, timeoutMs = 10_000): Promise<number> {
    return this.#holds.whenHeld(atLeast, timeoutMs);
  }

  /** @internal Holds one request as its decision says; resolves when it may go on. */
  hold(mode: HoldMode, response: ClosableResponse): Promise<void> {
    return this.#holds.hold(mode, response);
  }

  /** The active faults, in injection order. */
  list(): FaultInfo[] {
    return this.#faults.map((f) => ({ ...f.spec, id: f.id, fired: f.fired, ...(f.remaining !== undefined ? { remaining: f.remaining } : {}) }));
  }

  /**
   * @internal Resolves the faults for one request to `api` and consumes their `times`. `body`
   * identifies the request for the draws (its content and attempt).
   */
  decide(api: string, body?: Uint8Array): FaultDecision {
    let latencyMs = 0;
    let error: FaultDecision['error'];
    let drop: DropMode | undefined;
    let hold: HoldMode | undefined;
    let fired = 0;
    // Hashing the body costs time on every request: only done when a draw needs it, so the
    // attempts of a content count its arrivals while some probability fault applied to it.
    let request: RequestIdentity | undefined;
    const draw = (salt: number, row: number): number => {
      request ??= this.#attempts.identify(api, body);
      return unitDraw(this.#seed, salt, request.content, request.attempt, row);
    };
    const rowFaults: { spec: FaultSpec; salt: number; hit: Set<number> | { probability: number } | undefined }[] = [];
    for (const f of [...this.#faults]) {
      if (f.apis && !f.apis.has(api)) continue;
      const s = f.spec;
      const isTerminal = s.code !== undefined || s.drop !== undefined || s.hold !== undefined;
      // Only one terminal outcome per request: later error/drop/hold faults wait for another request.
      if (isTerminal && (error !== undefined || drop !== undefined || hold !== undefined)) continue;
      // Row index -1: the request-level draw, apart from every row's.
      if (s.probability !== undefined && !(draw(f.salt, -1) < s.probability)) continue;
      f.fired++;
      fired++;
      if (f.remaining !== undefined) {
        f.remaining--;
        if (f.remaining <= 0) this.remove(f.id);
      }
      latencyMs += s.latencyMs ?? 0;
      if (s.code !== undefined) {
        error = { code: s.code, status: s.status ?? statusForCode(s.code), message: s.message ?? OTS_ERROR_MESSAGE[s.code] ?? `Injected ${s.code}.` };
      } else if (s.drop !== undefined) {
        drop = s.drop;
      } else if (s.hold !== undefined) {
        hold = s.hold;
      } else if (s.rowError !== undefined) {
        const rows = s.rows;
        rowFaults.push({ spec: s, salt: f.salt, hit: rows === undefined ? undefined : Array.isArray(rows) ? new Set(rows as number[]) : (rows as { probability: number }) });
      }
    }
    const decided = new Map<number, { code: string; message: string } | undefined>();
    const rowError = (index: number): { code: string; message: string } | undefined => {
      if (decided.has(index)) return decided.get(index);
      let out: { code: string; message: string } | undefined;
      for (const rf of rowFaults) {
        const hit = rf.hit === undefined ? true : rf.hit instanceof Set ? rf.hit.has(index) : draw(rf.salt, index) < rf.hit.probability;
        if (hit && rf.spec.rowError) {
          out = { code: rf.spec.rowError.code, message: rf.spec.rowError.message ?? OTS_ERROR_MESSAGE[rf.spec.rowError.code] ?? `Injected ${rf.spec.rowError.code}.` };
          break;
        }
      }
      decided.set(index, out);
      return out;
    };
    return { latencyMs, error, drop, hold, rowError, fired };
  }
}
