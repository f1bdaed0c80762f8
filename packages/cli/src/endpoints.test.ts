import { endpointsFrom } from './endpoints';

const SOURCES = ['ecommerce', 'food', 'travel', 'mobility', 'cinema'];

describe('where the CLI finds the services', () => {
  it('when a side stack moves its ports by TAOBI_PORT_OFFSET, then the CLI moves with it; a URL given wins', () => {
    const endpoints = endpointsFrom({ TAOBI_PORT_OFFSET: '10000', TAOBI_TIER_URL: 'http://tier:1' }, SOURCES);
    expect(endpoints.url('scoring')).toBe('http://127.0.0.1:18085');
    expect(endpoints.ingest.food?.url).toBe('http://127.0.0.1:18082');
    expect(endpoints.url('tier')).toBe('http://tier:1');
    expect(endpointsFrom({}, SOURCES).url('scoring')).toBe('http://127.0.0.1:8085');
    expect(() => endpointsFrom({ TAOBI_PORT_OFFSET: 'ten' }, SOURCES)).toThrow(/TAOBI_PORT_OFFSET/);
  });

  it('when a source has no port of its own, then its ingest API is known only from its URL variable', () => {
    expect(endpointsFrom({}, SOURCES).ingest.cinema).toBeUndefined();
    expect(endpointsFrom({ TAOBI_INGEST_CINEMA_URL: 'http://cinema:1' }, SOURCES).ingest.cinema).toEqual({
      url: 'http://cinema:1',
      key: 'dev-cinema-key',
    });
  });
});
