import { Writable } from 'node:stream';
import { JsonLogger, createLogging } from './logger';

function capture(messageBodies: boolean) {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const logger = new JsonLogger(createLogging({ level: 'info', messageBodies, destination }).root);
  return { logger, lines };
}

describe('JsonLogger', () => {
  it('writes one JSON line per event with an ISO time and a level name', async () => {
    const { logger, lines } = capture(false);
    logger.event('warn', 'something_happened', { sid: 'SM1', n: 2 });
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0]).toMatchObject({ level: 'warn', event: 'something_happened', sid: 'SM1', n: 2 });
    expect(new Date(lines[0].time as string).toISOString()).toBe(lines[0].time);
  });

  it('drops levels below the configured one', async () => {
    const { logger, lines } = capture(false);
    logger.event('debug', 'noise');
    logger.event('info', 'kept');
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0].event).toBe('kept');
  });

  it('redacts secrets, masks E.164 values and drops message bodies by default', async () => {
    const { logger, lines } = capture(false);
    logger.event('info', 'e', { to: '+14155550100', body: 'hello there', token: 'abc', headers: { authorization: 'Bearer x' } });
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0]).toMatchObject({ to: '+1******0100', token: '[redacted]', headers: { authorization: '[redacted]' } });
    expect(lines[0]).not.toHaveProperty('body');
  });

  it('keeps message bodies with LOG_MESSAGE_BODIES=true', async () => {
    const { logger, lines } = capture(true);
    logger.event('info', 'sms_received', { body: 'hello there' });
    await vi.waitFor(() => expect(lines).toHaveLength(1));
    expect(lines[0].body).toBe('hello there');
  });
});
