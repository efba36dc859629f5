import { AjvCompiler } from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

type CompilerOptions = NonNullable<Parameters<ReturnType<typeof AjvCompiler>>[1]>;
type ValidatorFactory = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;
/** What Fastify passes to the compiler at run time (its published typings say `AnySchema`, which is not what arrives). */
interface RouteSchemaDef { schema: unknown; httpPart?: string }
type Compile = (route: RouteSchemaDef) => unknown;

function buildValidator(externalSchemas: Record<string, unknown>, ajvOptions: CompilerOptions | undefined): Compile {
  const options: CompilerOptions = ajvOptions ?? {};
  const external = externalSchemas as Parameters<ReturnType<typeof AjvCompiler>>[0];
  const lenient = AjvCompiler()(external, options) as unknown as Compile;
  const strictOptions = { ...options, customOptions: { ...options.customOptions, coerceTypes: false } } as CompilerOptions;
  const strict = AjvCompiler()(external, strictOptions) as unknown as Compile;
  return (route) => (route.httpPart === 'body' ? strict : lenient)(route);
}

/**
 * Request validation without type coercion in bodies: a JSON body that sends
 * `"5"` for an integer or `"npm ci"` for an argv array is a 400, not silently
 * turned into `5` or `["npm ci"]`. Query strings, params and headers are text
 * on the wire, so they keep Fastify's coercion (`?limit=10` is the integer 10).
 */
/** Ajv options of every route (app.ts): unknown fields are errors, never dropped; `discriminator` for runtime kinds. */
export const AJV_OPTIONS = { customOptions: { removeAdditional: false, discriminator: true, coerceTypes: 'array' } } as const;

/** One Ajv error, as Fastify puts them in `err.validation` (http/errors.ts turns the first into a code). */
export interface ValidationIssue {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/**
 * A validator for a JSON document checked exactly as a request body is (same
 * Ajv options, no coercion), for callers outside Fastify routes: MCP tool
 * arguments are checked against the routes' own schemas with it. Returns the
 * issues, or null when the value is valid.
 */
export function compileBodyValidator(schema: object): (value: unknown) => ValidationIssue[] | null {
  const compile = buildValidator({}, AJV_OPTIONS as unknown as CompilerOptions);
  const validate = compile({ schema, httpPart: 'body' }) as ((value: unknown) => boolean) & { errors?: ValidationIssue[] | null };
  return (value) => (validate(value) ? null : (validate.errors ?? [{ keyword: 'invalid', instancePath: '', params: {} }]));
}

export const strictBodies: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: { buildValidator: buildValidator as unknown as ValidatorFactory },
};
