import { types } from 'node:util';
import { StoreValidationError } from './errors.js';

/** How deep metadata may nest (objects and arrays), and how large it may be as JSON. */
export interface MetadataLimits {
  readonly maxDepth: number;
  readonly maxBytes: number;
}

/**
 * Metadata as JSON text, checked in one pass that reads every value exactly once and copies it;
 * the text is JSON.stringify of that copy, made of nothing but the values that were checked.
 * Checking first and calling JSON.stringify on the caller's object afterwards reads every
 * property twice and lets JSON.stringify rewrite what the check passed: a getter may return
 * another value on the second read (NaN, say, which becomes null), an array hole becomes `null`,
 * a named property of an array, a non-enumerable property or a symbol key is dropped, a `toJSON`
 * method replaces the value.
 *
 * So a getter is called once and its value is what is kept; anything whose JSON would not read
 * back as the same value is refused with a StoreValidationError naming its path
 * (`metadata.list[1]`, `metadata.a.b`): a value that is not JSON (undefined, a function, a
 * bigint, a symbol, NaN, Infinity), a lone surrogate (in a value or a key), an object that is not
 * plain (a Date, a Map, a class instance, an array subclass), a Proxy, a symbol key, a
 * non-enumerable property, an array hole or a named array property, a cycle, nesting deeper than
 * `maxDepth`, and text over `maxBytes` of UTF-8. An array too long to fit in `maxBytes` (at least
 * one byte per element) is refused before any element is read, so a sparse array of length 2**28
 * costs nothing; other metadata is refused as soon as what was read passes `maxBytes`.
 */
export function metadataJson(metadata: unknown, field: string, limits: MetadataLimits): string {
  // A Proxy first: asking a Proxy for its prototype already runs its code.
  if (types.isProxy(metadata) || !isPlainObject(metadata)) {
    throw new StoreValidationError(field, `expected a plain object, got ${describeValue(metadata)}`);
  }
  const json = JSON.stringify(new MetadataCopy(field, limits).value(metadata));
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > limits.maxBytes) throw new StoreValidationError(field, `is ${bytes} bytes as JSON, over the limit of ${limits.maxBytes}`);
  return json;
}

/** Copies checked metadata into fresh plain values, reading each value of the caller's once; see metadataJson(). */
class MetadataCopy {
  readonly #field: string;
  readonly #limits: MetadataLimits;
  /** A lower bound of the JSON's bytes so far (each string's UTF-16 length, 1 per other value), to stop early. */
  #units = 0;
  readonly #ancestors = new Set<object>();
  /** Where the value being read is, below the field: keys and indexes. Made into text only for an error. */
  readonly #path: (string | number | symbol)[] = [];

  constructor(field: string, limits: MetadataLimits) {
    this.#field = field;
    this.#limits = limits;
  }

  value(value: unknown): unknown {
    if (value === null || typeof value === 'boolean') return this.#counted(value, 1);
    if (typeof value === 'string') {
      if (!value.isWellFormed()) this.#refuse('contains a lone surrogate');
      return this.#counted(value, value.length + 2);
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) this.#refuse(`${value} is not a JSON number`);
      return this.#counted(value, 1);
    }
    if (typeof value !== 'object') this.#refuse(`${describeValue(value)} is not a JSON value`);
    if (types.isProxy(value)) this.#refuse('is a Proxy: its properties could be different each time they are read');
    if (this.#path.length >= this.#limits.maxDepth) this.#refuse(`nests deeper than ${this.#limits.maxDepth} levels`);
    if (this.#ancestors.has(value)) this.#refuse('is a circular reference');
    this.#ancestors.add(value);
    let copy: unknown;
    if (Array.isArray(value)) copy = this.#array(value);
    else if (isPlainObject(value)) copy = this.#object(value);
    else this.#refuse(`${describeValue(value)} is not a plain object or array`);
    this.#ancestors.delete(value);
    return copy;
  }

  #array(array: readonly unknown[]): unknown[] {
    if (Object.getPrototypeOf(array) !== Array.prototype) this.#refuse(`${describeValue(array)} is not a plain array`);
    // An array's `length` is its own data property: reading it runs no code.
    const length = array.length;
    if (length > this.#limits.maxBytes) {
      this.#refuse(`is an array of ${length} elements, more than fit in the metadata limit of ${this.#limits.maxBytes} bytes`);
    }
    this.#counted(undefined, length + 1);
    // An array's own keys are its indexes and `length`: any other is a named property (or a symbol).
    const keys = Reflect.ownKeys(array);
    if (keys.length !== length + 1) {
      const named = keys.find((key) => key !== 'length' && !isIndexBelow(key, length));
      if (named !== undefined) this.#refuseAt(named, 'is a named property of an array, which JSON leaves out');
    }
    const copy = new Array<unknown>(length);
    for (let index = 0; index < length; index += 1) {
      this.#path.push(index);
      if (!(index in array)) this.#refuse('is a hole (an empty slot of a sparse array), which JSON would turn into null');
      copy[index] = this.value(array[index]);
      this.#path.pop();
    }
    return copy;
  }

  #object(object: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const keys = Object.keys(object);
    // Object.keys leaves out symbol keys and non-enumerable properties, which JSON would drop unseen.
    const ownKeys = Reflect.ownKeys(object);
    if (ownKeys.length !== keys.length) {
      const hidden = ownKeys.find((key) => typeof key === 'symbol' || !Object.prototype.propertyIsEnumerable.call(object, key)) as string | symbol;
      this.#refuseAt(hidden, typeof hidden === 'symbol' ? 'has a symbol as its key, which JSON leaves out' : 'is a non-enumerable property, which JSON leaves out');
    }
    const copy: Record<string, unknown> = {};
    for (const key of keys) {
      this.#path.push(key);
      if (!key.isWellFormed()) this.#refuse('has a key with a lone surrogate');
      this.#counted(undefined, key.length + 4);
      const item = this.value(object[key]);
      // Assigning `__proto__` would set the copy's prototype instead of adding the key (a `toJSON`
      // key is harmless: its value is never a function, so JSON.stringify does not call it).
      if (key === '__proto__') Object.defineProperty(copy, key, { value: item, enumerable: true, writable: true, configurable: true });
      else copy[key] = item;
      this.#path.pop();
    }
    return copy;
  }

  #counted<T>(value: T, units: number): T {
    this.#units += units;
    if (this.#units > this.#limits.maxBytes) {
      throw new StoreValidationError(this.#field, `is more than ${this.#limits.maxBytes} bytes as JSON, over the limit`);
    }
    return value;
  }

  #refuseAt(key: string | symbol, reason: string): never {
    this.#path.push(key);
    this.#refuse(reason);
  }

  #refuse(reason: string): never {
    throw new StoreValidationError(this.#path.reduce<string>(appendToPath, this.#field), reason);
  }
}

function isIndexBelow(key: string | symbol, length: number): boolean {
  if (typeof key !== 'string' || !/^(0|[1-9][0-9]*)$/.test(key)) return false;
  return Number(key) < length;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `metadata.a`, `metadata.list[1]`, `metadata["with space"]`, `metadata[Symbol(s)]`. */
function appendToPath(path: string, key: string | number | symbol): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (typeof key === 'symbol') return `${path}[${key.toString()}]`;
  return IDENTIFIER.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A value in a few words, for an error message. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (types.isProxy(value)) return 'a Proxy';
  if (Array.isArray(value)) {
    return Object.getPrototypeOf(value) === Array.prototype ? 'an array' : `an array of class ${(value as object).constructor?.name ?? 'unknown'}`;
  }
  if (typeof value === 'object') return `an object of class ${(value as object).constructor?.name ?? 'unknown'}`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'symbol') return value.toString();
  return `${typeof value} ${String(value)}`;
}
