/**
 * One description per JSON file format hub reads (the settings, the stored sessions, hub-auth's
 * account bindings), which is at once the TypeScript type, the check of a file's contents and the
 * message that names the first field that is wrong. Not zod: docker-credential-hub reads these
 * files on every docker operation, and bench/json-shape-cost.ts measured loading and one check of
 * the settings (CPU time, bundled like the helper, over an empty module at 3.1 ms): this module
 * +1.2 ms, zod/mini +12 ms, zod +124 ms. The helper's whole start-up is a few tens of ms.
 */
export interface Shape<T> {
  /** What is wrong with `value` (the first thing found), or undefined when it is a T. */
  problem(value: unknown): Problem | undefined;
  /** In an object: the key may be absent (or undefined). */
  readonly optional?: boolean;
  /** Type-only: what the shape describes. */
  readonly _type?: T;
}

export interface Problem {
  /** Keys from the top, e.g. ['registries', 'registry.example.com', 'issuer']. */
  path: string[];
  message: string;
}

export type ShapeOf<S> = S extends Shape<infer T> ? T : never;

/** The value when it is a T, else a description of the first problem. */
export function check<T>(shape: Shape<T>, value: unknown): {value: T} | {problem: Problem} {
  const problem = shape.problem(value);
  return problem ? {problem} : {value: value as T};
}

export function matches<T>(shape: Shape<T>, value: unknown): value is T {
  return shape.problem(value) === undefined;
}

/** A plain object, not an array or null. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export const isString = (value: unknown): value is string => typeof value === 'string';

const wrong = (message: string): Problem => ({path: [], message});
const within = (key: string, problem: Problem | undefined): Problem | undefined =>
  problem && {path: [key, ...problem.path], message: problem.message};

export function string(rules: {nonEmpty?: boolean; url?: boolean} = {}): Shape<string> {
  return {
    problem(value) {
      if (typeof value !== 'string') return wrong('expected a string');
      if (rules.nonEmpty && value === '') return wrong('must not be empty');
      if (rules.url && !URL.canParse(value)) return wrong('expected a URL');
      return undefined;
    },
  };
}

export const finiteNumber: Shape<number> = {
  problem: (value) => (typeof value === 'number' && Number.isFinite(value) ? undefined : wrong('expected a number')),
};

export function oneOf<const V extends readonly string[]>(values: V): Shape<V[number]> {
  return {
    problem: (value) =>
      values.includes(value as string) ? undefined : wrong(`expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}`),
  };
}

export function optional<T>(shape: Shape<T>): Shape<T | undefined> & {readonly optional: true} {
  return {optional: true as const, problem: (value) => (value === undefined ? undefined : shape.problem(value))};
}

type Fields = Record<string, Shape<unknown>>;
type OptionalKeys<F extends Fields> = {[K in keyof F]: F[K] extends {optional: true} ? K : never}[keyof F];
type Simplify<T> = {[K in keyof T]: T[K]};
export type ObjectOf<F extends Fields> = Simplify<
  {[K in Exclude<keyof F, OptionalKeys<F>>]: ShapeOf<F[K]>} & {[K in OptionalKeys<F>]?: ShapeOf<F[K]>}
>;

/** An object with these fields; other keys are kept as they are (a newer hub may have written them). */
export function object<F extends Fields>(fields: F): Shape<ObjectOf<F>> & {fields: F} {
  return {
    fields,
    problem(value) {
      if (!isRecord(value)) return wrong('expected an object');
      for (const [key, shape] of Object.entries(fields)) {
        if (value[key] === undefined && !shape.optional) return {path: [key], message: 'is missing'};
        const problem = within(key, shape.problem(value[key]));
        if (problem) return problem;
      }
      return undefined;
    },
  };
}

/** An object with these fields only: there a key hub does not know is a mistake (a misspelt name), not a newer hub's. */
export function closedObject<F extends Fields>(fields: F): Shape<ObjectOf<F>> & {fields: F} {
  const open = object(fields);
  return {
    fields,
    problem(value) {
      const problem = open.problem(value);
      if (problem) return problem;
      const unknown = Object.keys(value as Record<string, unknown>).find((key) => !(key in fields));
      return unknown === undefined ? undefined : {path: [unknown], message: `is not one of ${Object.keys(fields).join(', ')}`};
    },
  };
}

/** An object used as a map from any key to a T. */
export function recordOf<T>(shape: Shape<T>): Shape<Record<string, T>> {
  return {
    problem(value) {
      if (!isRecord(value)) return wrong('expected an object');
      for (const [key, entry] of Object.entries(value)) {
        const problem = within(key, shape.problem(entry));
        if (problem) return problem;
      }
      return undefined;
    },
  };
}
