import { z } from 'zod';
import { fieldErrorsFromZod } from './errors';

describe('field errors from zod', () => {
  it('when a strict object gets unknown fields, then each is named as its own field', () => {
    const result = z.strictObject({ a: z.number() }).safeParse({ a: 'x', colour: 'red', size: 2 });
    expect(fieldErrorsFromZod(result.error?.issues ?? [], ['body'])).toEqual([
      { field: 'body.a', message: expect.any(String) },
      { field: 'body.colour', message: 'unknown field' },
      { field: 'body.size', message: 'unknown field' },
    ]);
  });
});
