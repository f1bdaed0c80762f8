import { z } from 'zod';
import { fieldErrorsFromZod } from './errors';

describe('fieldErrorsFromZod', () => {
  const schema = z.strictObject({ amount: z.number(), nested: z.strictObject({ id: z.string() }) });

  it('when an object has unknown keys, then each key is named as its own field', () => {
    const result = schema.safeParse({ amount: 1, nested: { id: 'x', idd: 'y' }, amuont: 2 });
    expect(fieldErrorsFromZod(result.error?.issues ?? [], ['events', 3])).toEqual(
      expect.arrayContaining([
        { field: 'events.3.nested.idd', message: 'unknown field' },
        { field: 'events.3.amuont', message: 'unknown field' },
      ]),
    );
  });

  it('when a field is missing, then it "is required"; when mistyped, zod says why', () => {
    const result = schema.safeParse({ amount: '12', nested: {} });
    expect(fieldErrorsFromZod(result.error?.issues ?? [])).toEqual([
      { field: 'amount', message: 'Invalid input: expected number, received string' },
      { field: 'nested.id', message: 'is required' },
    ]);
  });
});
