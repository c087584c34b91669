/**
 * A small protobuf (proto2) wire codec with hand-written message schemas.
 *
 * Only what the emulator needs: varints (including 64-bit ones kept as `bigint`), zig-zag,
 * length-delimited fields, fixed32/fixed64 (skipped or read as raw), nested messages, repeated
 * fields (packed or not, on decode). Schemas are plain objects; their TypeScript types are
 * inferred so that a decoded message is typed without generated code.
 *
 * @packageDocumentation
 */

/** Wire types of the protobuf encoding. */
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** Scalar field types this codec understands. */
export type ScalarType = 'string' | 'bytes' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'sint64' | 'bool' | 'enum' | 'double';

/** One field of a message schema. */
export interface FieldSpec {
  /** Field number. */
  readonly no: number;
  /** Scalar type name or a nested message schema. */
  readonly type: ScalarType | MessageSchema;
  /** `true` for `repeated` fields. */
  readonly repeated?: boolean;
  /** `true` for proto2 `required` fields: decoding fails when one is missing. */
  readonly required?: boolean;
}

/** A message schema: field name to field spec. */
export interface MessageSchema {
  readonly [field: string]: FieldSpec;
}

type ValueOf<T> = T extends 'string'
  ? string
  : T extends 'bytes'
    ? Buffer
    : T extends 'int64' | 'uint64' | 'sint64'
      ? bigint
      : T extends 'bool'
        ? boolean
        : T extends MessageSchema
          ? Message<T>
          : number;

type FieldValue<F extends FieldSpec> = F['repeated'] extends true ? ValueOf<F['type']>[] : ValueOf<F['type']>;

type RequiredKeys<S extends MessageSchema> = {
  [K in keyof S]: S[K]['required'] extends true ? K : S[K]['repeated'] extends true ? K : never;
}[keyof S];
type OptionalKeys<S extends MessageSchema> = Exclude<keyof S, RequiredKeys<S>>;

/**
 * The decoded form of a message: required and repeated fields are always present (repeated ones
 * default to `[]`), optional ones may be `undefined`.
 */
export type Message<S extends MessageSchema> = { [K in RequiredKeys<S>]: FieldValue<S[K]> } & {
  [K in OptionalKeys<S>]?: FieldValue<S[K]> | undefined;
};

/** The input of {@link encodeMessage}: every field optional, so that required ones are checked at run time. */
export type MessageInput<S extends MessageSchema> = {
  [K in keyof S]?: S[K]['type'] extends MessageSchema
    ? S[K]['repeated'] extends true
      ? MessageInput<S[K]['type']>[]
      : MessageInput<S[K]['type']>
    : FieldValue<S[K]> | undefined;
};

/** Thrown when bytes are not a valid encoding of the expected message. */
export class ProtobufDecodeError extends Error {
  override readonly name = 'ProtobufDecodeError';
}

const MASK64 = (1n << 64n) - 1n;

/** Appends protobuf primitives to one growing buffer. */
export class ProtoWriter {
  #buf: Buffer;
  #pos = 0;

  constructor(initialBytes = 256) {
    this.#buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.#pos;
  }

  #ensure(n: number): void {
    if (this.#pos + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#pos + n));
    this.#buf.copy(next, 0, 0, this.#pos);
    this.#buf = next;
  }

  /** Writes an unsigned varint from a non-negative safe integer. */
  uvarint(value: number): this {
    this.#ensure(10);
    const buf = this.#buf;
    let v = value;
    while (v > 0x7f) {
      buf[this.#pos++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    buf[this.#pos++] = v;
    return this;
  }

  /** Writes a 64-bit varint; negative values are written as their two's complement (10 bytes). */
  varint64(value: bigint): this {
    let v = value & MASK64;
    if (v <= 0xffffffffn) return this.uvarint(Number(v));
    this.#ensure(10);
    while (v > 0x7fn) {
      this.#buf[this.#pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#pos++] = Number(v);
    return this;
  }

  /** Writes a field key (number and wire type). */
  key(no: number, wire: number): this {
    return this.uvarint(no * 8 + wire);
  }

  /** Writes raw bytes. */
  raw(bytes: Uint8Array): this {
    this.#ensure(bytes.byteLength);
    this.#buf.set(bytes, this.#pos);
    this.#pos += bytes.byteLength;
    return this;
  }

  /** Writes a length-prefixed byte string. */
  lengthDelimited(bytes: Uint8Array): this {
    this.uvarint(bytes.byteLength);
    return this.raw(bytes);
  }

  /** Writes a length-prefixed UTF-8 string without an intermediate buffer. */
  utf8(value: string): this {
    const max = value.length * 3;
    // Room for the bytes and the longest prefix, so that writing the prefix never reallocates.
    this.#ensure(max + 10);
    // Reserve the length prefix for the longest string, then move the bytes if it was shorter.
    const prefix = max < 0x80 ? 1 : max < 0x4000 ? 2 : max < 0x200000 ? 3 : 5;
    const start = this.#pos + prefix;
    const n = this.#buf.write(value, start, 'utf8');
    let lenBytes = 1;
    for (let v = n; v > 0x7f; v = Math.floor(v / 128)) lenBytes++;
    if (lenBytes !== prefix) this.#buf.copy(this.#buf, this.#pos + lenBytes, start, start + n);
    this.uvarint(n);
    this.#pos += n;
    return this;
  }

  /** Writes what `other` holds as a length-prefixed field value, copying straight from its buffer. */
  lengthDelimitedFrom(other: ProtoWriter): this {
    const n = other.#pos;
    this.uvarint(n);
    this.#ensure(n);
    other.#buf.copy(this.#buf, this.#pos, 0, n);
    this.#pos += n;
    return this;
  }

  /** Forgets everything written, keeping the buffer for reuse. */
  reset(): void {
    this.#pos = 0;
  }

  /** Returns everything written as one buffer (a view: the writer must not be used afterwards). */
  finish(): Buffer {
    return this.#buf.subarray(0, this.#pos);
  }
}

/** Reads protobuf primitives from a buffer. */
export class ProtoReader {
  readonly #buf: Buffer;
  #pos: number;
  readonly #end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.#buf = buf;
    this.#pos = start;
    this.#end = end;
  }

  /** `true` when every byte has been consumed. */
  get done(): boolean {
    return this.#pos >= this.#end;
  }

  /** Reads a varint as a `bigint` (unsigned 64-bit). */
  /**
   * A varint as a number while it fits in 49 bits (7 bytes: every enum, length and small
   * integer), else as a bigint: most fields then cost no bigint arithmetic at all.
   */
  varint(): number | bigint {
    const start = this.#pos;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.#pos >= this.#end) throw new ProtobufDecodeError('truncated varint');
      const byte = this.#buf[this.#pos++] as number;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
    this.#pos = start;
    return this.varint64();
  }

  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) throw new ProtobufDecodeError('truncated varint');
      const byte = this.#buf[this.#pos++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result & MASK64;
      shift += 7n;
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** Reads a varint that must fit in a JS safe integer (lengths, keys, small enums). */
  uvarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#end) throw new ProtobufDecodeError('truncated varint');
      const byte = this.#buf[this.#pos++] as number;
      result += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) throw new ProtobufDecodeError('varint too large');
        return result;
      }
      mul *= 128;
    }
    throw new ProtobufDecodeError('varint longer than 10 bytes');
  }

  /** Reads `n` raw bytes (a view, not a copy). */
  bytes(n: number): Buffer {
    if (n < 0 || this.#pos + n > this.#end) throw new ProtobufDecodeError('truncated length-delimited field');
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Reads a length-prefixed byte string (a view, not a copy). */
  lengthDelimited(): Buffer {
    return this.bytes(this.uvarint());
  }

  /** Skips one field value of the given wire type. */
  skip(wire: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint64();
        return;
      case WIRE_FIXED64:
        this.bytes(8);
        return;
      case WIRE_LEN:
        this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        this.bytes(4);
        return;
      default:
        throw new ProtobufDecodeError(`unsupported wire type ${wire}`);
    }
  }
}

function toSigned64(u: bigint): bigint {
  return BigInt.asIntN(64, u);
}

function scalarFromVarint(type: ScalarType, value: number | bigint): unknown {
  if (typeof value === 'number') {
    // Below 2^49: the 32-bit types convert exactly with the usual int32/uint32 coercions.
    if (type === 'int32' || type === 'enum') return value | 0;
    if (type === 'uint32') return value >>> 0;
    if (type === 'bool') return value !== 0;
  }
  const raw = typeof value === 'number' ? BigInt(value) : value;
  switch (type) {
    case 'int64':
      return toSigned64(raw);
    case 'uint64':
      return raw;
    case 'sint64':
      return (raw >> 1n) ^ -(raw & 1n);
    case 'bool':
      return raw !== 0n;
    case 'int32':
    case 'enum':
      return Number(BigInt.asIntN(32, raw));
    case 'uint32':
      return Number(BigInt.asUintN(32, raw));
    default:
      throw new ProtobufDecodeError(`a varint cannot hold a ${type}`);
  }
}

function isVarintType(type: ScalarType | MessageSchema): type is ScalarType {
  return typeof type === 'string' && type !== 'string' && type !== 'bytes' && type !== 'double';
}

interface Compiled {
  /** Fields in field-number order (the encoding order). */
  readonly fields: readonly (readonly [string, FieldSpec])[];
  /** Field by number (decoding), as a sparse array. */
  readonly byNo: readonly ((readonly [string, FieldSpec]) | undefined)[];
  readonly repeated: readonly string[];
  readonly required: readonly string[];
}

// Schemas are constant objects: their field tables are computed once, not per message.
const compiled = new WeakMap<MessageSchema, Compiled>();

function compile(schema: MessageSchema): Compiled {
  let c = compiled.get(schema);
  if (!c) {
    const fields = Object.entries(schema).sort((a, b) => a[1].no - b[1].no);
    const byNo: ((readonly [string, FieldSpec]) | undefined)[] = [];
    for (const f of fields) byNo[f[1].no] = f;
    c = { fields, byNo, repeated: fields.filter((f) => f[1].repeated).map((f) => f[0]), required: fields.filter((f) => f[1].required).map((f) => f[0]) };
    compiled.set(schema, c);
  }
  return c;
}

/**
 * Decodes a message. Unknown fields are skipped; missing `required` fields raise
 * {@link ProtobufDecodeError}, which the emulator answers with `OTSParameterInvalid`.
 */
export function decodeMessage<S extends MessageSchema>(schema: S, buf: Buffer, name = 'message'): Message<S> {
  const c = compile(schema);
  const out: Record<string, unknown> = {};
  for (const f of c.repeated) out[f] = [];
  const r = new ProtoReader(buf);
  while (!r.done) {
    const k = r.uvarint();
    const no = Math.floor(k / 8);
    const wire = k % 8;
    const entry = c.byNo[no];
    if (!entry) {
      r.skip(wire);
      continue;
    }
    const [fieldName, spec] = entry;
    const type = spec.type;
    let value: unknown;
    if (typeof type === 'object') {
      if (wire !== WIRE_LEN) throw new ProtobufDecodeError(`${name}.${fieldName}: expected a message`);
      value = decodeMessage(type, r.lengthDelimited(), `${name}.${fieldName}`);
    } else if (type === 'string' || type === 'bytes') {
      if (wire !== WIRE_LEN) throw new ProtobufDecodeError(`${name}.${fieldName}: expected bytes`);
      const b = r.lengthDelimited();
      // A view of the request body, which is never reused: stored values are copied where kept.
      value = type === 'string' ? b.toString('utf8') : b;
    } else if (type === 'double') {
      if (wire !== WIRE_FIXED64) throw new ProtobufDecodeError(`${name}.${fieldName}: expected a double`);
      value = r.bytes(8).readDoubleLE(0);
    } else if (isVarintType(type)) {
      if (wire === WIRE_LEN && spec.repeated) {
        // Packed repeated scalars: proto2 senders may pack even without [packed=true].
        const inner = new ProtoReader(r.lengthDelimited());
        const list = out[fieldName] as unknown[];
        while (!inner.done) list.push(scalarFromVarint(type, inner.varint()));
        continue;
      } else if (wire === WIRE_VARINT) {
        value = scalarFromVarint(type, r.varint());
      } else {
        throw new ProtobufDecodeError(`${name}.${fieldName}: expected a varint`);
      }
    }
    if (spec.repeated) (out[fieldName] as unknown[]).push(value);
    else out[fieldName] = value;
  }
  for (const f of c.required) {
    if (out[f] === undefined) throw new ProtobufDecodeError(`${name}: missing required field '${f}'`);
  }
  return out as Message<S>;
}

function writeScalar(w: ProtoWriter, no: number, type: ScalarType, value: unknown): void {
  switch (type) {
    case 'string':
      w.key(no, WIRE_LEN).utf8(String(value));
      return;
    case 'bytes':
      w.key(no, WIRE_LEN).lengthDelimited(value as Uint8Array);
      return;
    case 'double': {
      const b = Buffer.alloc(8);
      b.writeDoubleLE(value as number, 0);
      w.key(no, WIRE_FIXED64).raw(b);
      return;
    }
    case 'bool':
      w.key(no, WIRE_VARINT).uvarint(value ? 1 : 0);
      return;
    case 'int64':
    case 'uint64':
      w.key(no, WIRE_VARINT).varint64(BigInt(value as bigint));
      return;
    case 'sint64': {
      const v = BigInt(value as bigint);
      w.key(no, WIRE_VARINT).varint64((v << 1n) ^ (v >> 63n));
      return;
    }
    case 'int32':
    case 'enum':
    case 'uint32':
      // Negative int32 values are sign-extended to 64 bits, as protobuf requires.
      w.key(no, WIRE_VARINT).varint64(BigInt(value as number));
      return;
  }
}

/**
 * Encodes a message. Fields are written in field-number order; `undefined` optional fields are
 * omitted; a missing `required` field is a programming error and throws.
 */
export function encodeMessage<S extends MessageSchema>(schema: S, msg: MessageInput<S>, name = 'message'): Buffer {
  const w = new ProtoWriter();
  writeMessage(w, schema, msg as Record<string, unknown>, name, 0);
  return w.finish();
}

// One scratch writer per nesting depth, reused for every nested message at that depth: a nested
// message is written there, then copied into its parent with its length prefix.
const nested: ProtoWriter[] = [];

function writeMessage(w: ProtoWriter, schema: MessageSchema, input: Record<string, unknown>, name: string, depth: number): void {
  for (const [fieldName, spec] of compile(schema).fields) {
    const value = input[fieldName];
    if (value === undefined || value === null) {
      if (spec.required) throw new Error(`${name}: missing required field '${fieldName}'`);
      continue;
    }
    if (spec.repeated) {
      for (const v of value as unknown[]) writeField(w, spec, v, name, fieldName, depth);
    } else {
      writeField(w, spec, value, name, fieldName, depth);
    }
  }
}

function writeField(w: ProtoWriter, spec: FieldSpec, v: unknown, name: string, fieldName: string, depth: number): void {
  if (typeof spec.type === 'object') {
    const inner = (nested[depth] ??= new ProtoWriter(1024));
    inner.reset();
    writeMessage(inner, spec.type, v as Record<string, unknown>, name, depth + 1);
    w.key(spec.no, WIRE_LEN).lengthDelimitedFrom(inner);
  } else {
    writeScalar(w, spec.no, spec.type, v);
  }
}
