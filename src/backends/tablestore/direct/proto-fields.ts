/**
 * Reading protobuf answers field by field, with the checks the generic decoder (src/codec/protobuf.ts)
 * makes: each known field of the wire type its schema declares, required fields present, unknown
 * fields skipped. Anything else is an {@link UnusualAnswer}.
 *
 * @packageDocumentation
 */
import { ProtoReader } from '../../../codec/protobuf.js';
import { unusual } from './unusual-answer.js';

/** Wire type of varints. */
export const WIRE_VARINT = 0;
/** Wire type of length-delimited fields (strings, bytes, messages). */
export const WIRE_LEN = 2;

/** Fails unless `wire` is what the schema declares for the field. */
export function expectWire(wire: number, expected: number, field: string): void {
  if (wire !== expected) unusual(`${field}: wire type ${wire}, expected ${expected}`);
}

/**
 * Checks a `ConsumedCapacity { required CapacityUnit capacity_unit = 1 }` at `[from, to)` of
 * `buf`, whose `CapacityUnit` holds two optional int32s; nothing of it is kept.
 */
export function checkConsumed(buf: Buffer, from: number, to: number): void {
  const r = new ProtoReader(buf, from, to);
  let seen = false;
  while (!r.done) {
    const key = r.uvarint();
    const no = Math.floor(key / 8);
    const wire = key % 8;
    if (no !== 1) {
      r.skip(wire);
      continue;
    }
    expectWire(wire, WIRE_LEN, 'ConsumedCapacity.capacity_unit');
    const start = r.skipLengthDelimited();
    const unit = new ProtoReader(buf, start, r.position);
    while (!unit.done) {
      const k = unit.uvarint();
      const n = Math.floor(k / 8);
      if (n === 1 || n === 2) {
        expectWire(k % 8, WIRE_VARINT, 'CapacityUnit');
        unit.varint();
      } else {
        unit.skip(k % 8);
      }
    }
    seen = true;
  }
  if (!seen) unusual('ConsumedCapacity without capacity_unit');
}

/**
 * Reads a `GetRowResponse` or `PutRowResponse` (`required ConsumedCapacity consumed = 1; optional
 * bytes row = 2`): checks `consumed` and returns where the row's PlainBuffer bytes are in `body`
 * (`from === to` when there is no row). `message` names the schema in errors.
 */
export function consumedAndRow(body: Buffer, message: string): { from: number; to: number } {
  const r = new ProtoReader(body);
  let consumed = false;
  let from = 0;
  let to = 0;
  while (!r.done) {
    const key = r.uvarint();
    const no = Math.floor(key / 8);
    if (no === 1) {
      expectWire(key % 8, WIRE_LEN, `${message}.consumed`);
      const start = r.skipLengthDelimited();
      checkConsumed(body, start, r.position);
      consumed = true;
    } else if (no === 2) {
      expectWire(key % 8, WIRE_LEN, `${message}.row`);
      from = r.skipLengthDelimited();
      to = r.position;
    } else {
      r.skip(key % 8);
    }
  }
  if (!consumed) unusual(`${message} without consumed`);
  return { from, to };
}
