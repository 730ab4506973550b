// The dev broker's command line (npm run kafka:start / kafka:stop): starts once, stops, keeps its data, rejects bad arguments.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KAFKA_VERSION } from '../../scripts/kafka/broker.ts';
import { consumeAll, createTopic, produce, type KafkaBroker } from '../support/kafka.ts';

const BROKER_SCRIPT = fileURLToPath(new URL('../../scripts/kafka/broker.ts', import.meta.url));

function brokerCommand(...args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', BROKER_SCRIPT, ...args], { encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A loopback port whose next port is free too (the controller listens there). */
async function freePortPair(): Promise<number> {
  for (;;) {
    const port = await listenOnce(0);
    if ((await listenOnce(port + 1).catch(() => undefined)) !== undefined) return port;
  }
}

function listenOnce(port: number): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as { port: number };
      server.close(() => resolvePort(bound));
    });
  });
}

/** The broker runs detached, so once it exits init reaps it and its /proc entry goes. */
function alive(pid: number): boolean {
  return existsSync(`/proc/${pid}`);
}

describe('dev broker command', () => {
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pipec-kafka-dev-'));
    port = await freePortPair();
  });
  afterAll(() => {
    brokerCommand('stop', '--dir', dir);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts once, stops, and keeps its topics for the next start', async () => {
    const started = brokerCommand('start', '--port', String(port), '--dir', dir);
    expect(started.stderr).toBe('');
    const pid = Number(/\(pid (\d+),/.exec(started.stdout)?.[1]);
    expect(started).toEqual({ status: 0, stdout: `Kafka ${KAFKA_VERSION} runs at 127.0.0.1:${port} (pid ${pid}, log ${dir}/broker.log)\n`, stderr: '' });
    expect(alive(pid)).toBe(true);

    expect(brokerCommand('start', '--dir', dir)).toEqual({ status: 0, stdout: `Kafka already runs at 127.0.0.1:${port} (pid ${pid})\n`, stderr: '' });

    const broker: KafkaBroker = { bootstrapServers: `127.0.0.1:${port}`, stop: async () => {} };
    await createTopic(broker, 'kept', 1);
    await produce(broker, 'kept', [{ key: 'k', value: 'survives a restart' }]);

    expect(brokerCommand('stop', '--dir', dir)).toEqual({ status: 0, stdout: `Kafka stopped (pid ${pid})\n`, stderr: '' });
    expect(alive(pid)).toBe(false);
    expect(existsSync(join(dir, 'broker.json'))).toBe(false);
    expect(brokerCommand('stop', '--dir', dir)).toEqual({ status: 0, stdout: 'Kafka does not run\n', stderr: '' });

    const restarted = brokerCommand('start', '--port', String(port), '--dir', dir);
    expect(restarted.status).toBe(0);
    const messages = await consumeAll(broker, 'kept', { count: 1 });
    expect(messages.map(({ key, value }) => ({ key, value }))).toEqual([{ key: 'k', value: 'survives a restart' }]);
    expect(brokerCommand('stop', '--dir', dir).stdout).toMatch(/^Kafka stopped \(pid \d+\)\n$/);
  });

  it('rejects a bad argument with one line and exit code 2', () => {
    const usage = 'usage: broker.ts start [--port 9092] [--dir .pipec/kafka] | stop [--dir .pipec/kafka]';
    expect(brokerCommand('restart')).toEqual({ status: 2, stdout: '', stderr: `unknown command 'restart'; ${usage}\n` });
    expect(brokerCommand('start', '--port', 'ninety')).toEqual({ status: 2, stdout: '', stderr: `--port must be a port number below 65535, got 'ninety'; ${usage}\n` });
    expect(brokerCommand('stop', '--port', '9092')).toEqual({ status: 2, stdout: '', stderr: `stop takes no --port: it finds the broker by its --dir; ${usage}\n` });
  });
});
