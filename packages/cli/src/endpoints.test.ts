import { endpointsFrom } from './endpoints';

describe('where the CLI finds the services', () => {
  it('when a side stack moves its ports by TAOBI_PORT_OFFSET, then the CLI moves with it; a URL given wins', () => {
    const endpoints = endpointsFrom({ TAOBI_PORT_OFFSET: '10000', TAOBI_TIER_URL: 'http://tier:1' });
    expect(endpoints.url('scoring')).toBe('http://127.0.0.1:18085');
    expect(endpoints.ingest.food.url).toBe('http://127.0.0.1:18082');
    expect(endpoints.url('tier')).toBe('http://tier:1');
    expect(endpointsFrom({}).url('scoring')).toBe('http://127.0.0.1:8085');
    expect(() => endpointsFrom({ TAOBI_PORT_OFFSET: 'ten' })).toThrow(/TAOBI_PORT_OFFSET/);
  });
});
