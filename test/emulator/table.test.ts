/**
 * The partitioned row store: scans in both directions, from any bound, match a brute-force sort
 * of the same rows (seeded, reproducible).
 */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../src/emulator/prng.js';
import { compareToBound, comparePk, type BoundValue, type PkValue, type TableDef } from '../../src/emulator/store.js';
import { Table } from '../../src/emulator/table.js';

const DEF: TableDef = {
  name: 't',
  primaryKey: [
    { name: 'p', type: 'STRING', autoIncrement: false },
    { name: 'n', type: 'INTEGER', autoIncrement: false },
  ],
  definedColumns: [],
  options: { timeToLive: -1, maxVersions: 1, deviationCellVersionInSec: 86400n, allowUpdate: true },
  reservedRead: 0,
  reservedWrite: 0,
  lastIncreaseTime: 0n,
};

describe('Table', () => {
  it.each([1, 2, 3, 4, 5])('scans like a brute-force sort (seed %i)', (seed) => {
    const random = mulberry32(seed);
    const pick = (n: number): number => Math.floor(random() * n);
    const t = new Table(DEF);
    const live = new Map<string, PkValue[]>();
    for (let i = 0; i < 600; i++) {
      const pk: PkValue[] = [Buffer.from(`p${pick(8)}`), BigInt(pick(60) - 30)];
      const k = `${pk[0]!.toString()}|${pk[1]}`;
      if (pick(5) === 0) {
        t.apply({ kind: 'delete', pk });
        live.delete(k);
      } else {
        t.apply({ kind: 'put', pk, cells: [{ name: 'v', value: { type: 'INTEGER', value: BigInt(i) }, ts: 1n }], ts: 1n });
        live.set(k, pk);
      }
    }
    const sorted = [...live.values()].sort(comparePk);
    expect([...t.rows()].map((r) => r.pk)).toEqual(sorted);
    const bound = (): BoundValue[] => {
      const r = pick(10);
      if (r === 0) return ['min', 'min'];
      if (r === 1) return ['max', 'max'];
      const first = Buffer.from(`p${pick(9)}`);
      const s = pick(4);
      return [first, s === 0 ? 'min' : s === 1 ? 'max' : BigInt(pick(70) - 35)];
    };
    for (let q = 0; q < 200; q++) {
      const a = bound();
      const b = bound();
      const forward = sorted.filter((pk) => compareToBound(pk, a) >= 0 && compareToBound(pk, b) < 0);
      expect([...t.scan(a, b, false)].map((r) => r.pk)).toEqual(forward);
      const backward = sorted.filter((pk) => compareToBound(pk, a) <= 0 && compareToBound(pk, b) > 0).reverse();
      expect([...t.scan(a, b, true)].map((r) => r.pk)).toEqual(backward);
    }
    expect(t.size).toBe(live.size);
  });
});
