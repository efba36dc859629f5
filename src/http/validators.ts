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
export const strictBodies: NonNullable<FastifyServerOptions['schemaController']> = {
  compilersFactory: { buildValidator: buildValidator as unknown as ValidatorFactory },
};
