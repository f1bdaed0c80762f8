import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_NAMES, SERVICE_PORTS, serviceUrl } from './service-map';

describe('the service map', () => {
  it("when a service's package.json names its port, then the map says the same port", () => {
    for (const name of SERVICE_NAMES) {
      const pkg = JSON.parse(
        readFileSync(join(__dirname, '..', '..', '..', 'services', name, 'package.json'), 'utf8'),
      ) as { taobi: { port: number } };
      expect([name, pkg.taobi.port]).toEqual([name, SERVICE_PORTS[name]]);
    }
  });

  it('when a URL variable is set it wins; otherwise the local port moves by TAOBI_PORT_OFFSET', () => {
    expect(serviceUrl('ingest-food', {})).toBe('http://127.0.0.1:8082');
    expect(serviceUrl('ingest-food', { TAOBI_PORT_OFFSET: '10000' })).toBe('http://127.0.0.1:18082');
    expect(
      serviceUrl('ingest-food', { TAOBI_INGEST_FOOD_URL: 'http://food:8082/', TAOBI_PORT_OFFSET: 5 }),
    ).toBe('http://food:8082');
  });
});
