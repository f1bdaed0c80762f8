import { ingestOpenApiDocument } from './openapi';
import { ingestSchemas } from './request-schema';
import type { IngestSourceDefinition } from './source-definition';
import { catalogueOf, rideDefinition, shopDefinition } from './test-definitions';

/** The document of a test definition, over the shipped rule set. */
const documentOf = (definition: IngestSourceDefinition) =>
  ingestOpenApiDocument(definition, ingestSchemas(definition, catalogueOf(definition)), {
    catalogue: catalogueOf(definition),
    maxFutureSeconds: 300,
    bodyLimitBytes: 1048576,
  });

describe('ingestOpenApiDocument', () => {
  const document = documentOf(shopDefinition) as {
    components: {
      schemas: Record<string, { properties?: Record<string, { enum?: string[] }>; required?: string[] }>;
    };
    paths: Record<string, { post: { responses: Record<string, unknown> } }>;
  };

  it('when generated, then every $ref points at a component that exists', () => {
    const refs = [...JSON.stringify(document).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map(
      (m) => m[1],
    );
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(document.components.schemas).toHaveProperty(ref as string);
  });

  it("when generated, then it carries the source's channels and categories and every answer of the API", () => {
    const completed = document.components.schemas.OrderCompleted;
    expect(completed?.properties?.channel?.enum).toEqual(['taobao', 'tmall', 'flash-sale']);
    expect(completed?.properties?.category?.enum).toEqual(['physical', 'virtual']);
    expect(completed?.required).toEqual(expect.arrayContaining(['orderId', 'memberId', 'amount', 'channel']));
    expect(Object.keys(document.paths['/v1/events']?.post.responses ?? {})).toEqual([
      '202',
      '400',
      '401',
      '403',
      '413',
      '415',
      '422',
      '429',
      '503',
    ]);
  });

  it('when a source has defaults, then those fields are optional in its schema', () => {
    const ride = documentOf(rideDefinition) as typeof document;
    expect(ride.components.schemas.OrderCompleted?.required).not.toContain('channel');
  });

  it("when the definition's examples are validated, then they pass the schemas the document is made from", () => {
    const { event } = ingestSchemas(shopDefinition, catalogueOf(shopDefinition));
    expect(event.safeParse(shopDefinition.examples.completed).success).toBe(true);
    expect(event.safeParse(shopDefinition.examples.refunded).success).toBe(true);
  });
});
