import { Errors } from '@taobi/platform';
import { z } from 'zod';

/**
 * A `datetime-local` field: wall-clock time without an offset, read on the programme's clock
 * (Shanghai). Empty means "not given".
 */
export const shanghaiTimeField = z
  .string()
  .trim()
  .transform((local, ctx) => {
    if (local === '') return undefined;
    const date = new Date(`${local.length === 16 ? `${local}:00` : local}+08:00`);
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(local) || Number.isNaN(date.getTime())) {
      ctx.addIssue({ code: 'custom', message: 'must be a date and time (YYYY-MM-DDTHH:MM)' });
      return z.NEVER;
    }
    return date;
  });

/** An instant as a `datetime-local` value on Shanghai's clock (to fill a field back in). */
export function toShanghaiField(instant: Date): string {
  return new Date(instant.getTime() + 8 * 3_600_000).toISOString().slice(0, 16);
}

/** A form's fields by the schema, or 400 naming the first bad field. */
export function parseForm<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw Errors.validation(
    [{ field: issue?.path.join('.') ?? '', message: issue?.message ?? 'invalid' }],
    `${issue?.path.join('.')}: ${issue?.message}`,
  );
}
