import { PipeTransform } from '@nestjs/common';
import { z } from 'zod';
import { RequestValidationError } from './problem';

/** Validates (and narrows) a body, query or parameter with a zod schema: `@Body(new ZodPipe(Schema))`. */
export class ZodPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly schema: z.ZodType<T>) {}

  transform(value: unknown): T {
    const parsed = this.schema.safeParse(value);
    if (!parsed.success) throw new RequestValidationError(parsed.error.issues);
    return parsed.data;
  }
}

/** A zod schema as the JSON Schema OpenAPI documents (`@ApiBody({ schema: openApiSchema(S) })`). */
export function openApiSchema(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { target: 'openapi-3.0', unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}
