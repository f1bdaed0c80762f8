import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { rejoinCause } from './consumer-watchdog';

function protocolError(type: string): Error {
  return Object.assign(new KafkaJSProtocolError(`protocol error ${type}`), { type });
}

describe('rejoinCause', () => {
  it('when the error says to rejoin, then it is the cause; when it wraps one (retries spent), then the wrapped one', () => {
    const notCoordinator = protocolError('NOT_COORDINATOR_FOR_GROUP');
    expect(rejoinCause(notCoordinator)).toBe(notCoordinator);
    const spent = new KafkaJSNumberOfRetriesExceeded(notCoordinator, {
      retryCount: 10,
      retryTime: 30_000,
      cause: notCoordinator,
    } as ConstructorParameters<typeof KafkaJSNumberOfRetriesExceeded>[1]);
    expect(rejoinCause(spent)).toBe(notCoordinator);
    for (const type of ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID']) {
      expect(rejoinCause(protocolError(type))?.message).toBe(`protocol error ${type}`);
    }
  });

  it('when the error has nothing to do with the group, then there is no cause to rejoin for', () => {
    expect(rejoinCause(protocolError('UNKNOWN_TOPIC_OR_PARTITION'))).toBeUndefined();
    expect(rejoinCause(new Error('connection reset'))).toBeUndefined();
    expect(rejoinCause(undefined)).toBeUndefined();
  });
});
