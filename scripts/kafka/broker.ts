// A real single-node Apache Kafka broker (KRaft) on loopback, from Kafka's own jars, for development, tests and benchmarks.
//
// Library: kafkaJars() and startBroker(). Command line (npm run kafka:start / kafka:stop), a broker that outlives it:
//   node --import tsx scripts/kafka/broker.ts start [--port 9092] [--dir .pipec/kafka] | stop [--dir .pipec/kafka]
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';

/** The broker's version, given to pom.xml; kafkajs 2 speaks its protocol (Kafka 4 removed versions kafkajs uses). */
export const KAFKA_VERSION = '3.9.1';

const HOST = '127.0.0.1';
const POM = fileURLToPath(new URL('./pom.xml', import.meta.url));
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;

export interface BrokerOptions {
  /** The client listener's port; 0 or absent picks a free loopback port. */
  port?: number;
  /** The controller listener's port; 0 or absent picks a free loopback port. */
  controllerPort?: number;
  /** Where the broker keeps server.properties and its log segments; absent: a new temporary directory. */
  dataDir?: string;
  /** The broker's own log (stdout and stderr of the JVM); absent: broker.log in the data dir. */
  logFile?: string;
}

export interface KafkaBroker {
  /** `host:port` for clients' bootstrap servers. */
  bootstrapServers: string;
  /** Stops the broker (SIGTERM, then SIGKILL after 10 s) and removes its data dir. */
  stop(): Promise<void>;
}

/**
 * The directory of Kafka's jars (and their dependencies), fetched from Maven Central on first use into
 * `$PIPEC_KAFKA_HOME` or `~/.cache/pipec/kafka-<version>/`, outside the repo. Processes that ask at the same time each
 * fetch into a temporary directory and rename it into place; the first rename wins and the others discard theirs, so no
 * reader ever sees a half-filled directory.
 */
export async function kafkaJars(): Promise<string> {
  const home = process.env.PIPEC_KAFKA_HOME ?? join(homedir(), '.cache', 'pipec', `kafka-${KAFKA_VERSION}`);
  const libs = join(home, 'libs');
  if (existsSync(libs)) return libs;
  mkdirSync(dirname(home), { recursive: true });
  const staging = await mkdtemp(`${home}.fetching-`);
  // -B -q: no prompts and no progress bars (CI has no terminal); ~/.m2 keeps the downloads between fetches.
  const mvn = await run('mvn', ['-B', '-q', '-f', POM, 'dependency:copy-dependencies', `-Dkafka.version=${KAFKA_VERSION}`, '-DincludeScope=runtime', `-DoutputDirectory=${join(staging, 'libs')}`]);
  if (mvn.code !== 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(`fetching Kafka ${KAFKA_VERSION}'s jars with mvn failed (exit ${mvn.code}):\n${tail(mvn.output)}`);
  }
  try {
    renameSync(staging, home);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // Another process renamed its copy into place first: use that one.
    if (!existsSync(libs)) throw error;
  }
  return libs;
}

/**
 * Starts a broker with the controller in the same JVM (KRaft, one node) on loopback and resolves once a client can
 * describe the cluster. The returned stop() ends it; so does this process ending, however it ends.
 */
export async function startBroker(options: BrokerOptions = {}): Promise<KafkaBroker> {
  const prepared = await prepareBroker(options);
  const log = openSync(prepared.logFile, 'a');
  // In a process group of its own, so that terminate() can signal the watchdog and the JVM together.
  const child = spawn('sh', ['-c', WATCHDOG, String(process.pid), ...prepared.javaArgs], { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  try {
    await waitUntilReady(prepared, child);
  } catch (error) {
    await terminate(child);
    throw error;
  }
  return {
    bootstrapServers: prepared.bootstrapServers,
    async stop() {
      await terminate(child);
      rmSync(prepared.dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `sh -c WATCHDOG <pid> <java args>`: runs the broker and ends it once process <pid> is gone. A test worker that is
 * killed runs no exit handler, and a broker left behind would hold half a GB until someone finds it. Exits with the
 * broker's status, so a broker that fails to start is seen as an exit.
 */
const WATCHDOG = [
  'java "$@" & broker=$!',
  'trap \'kill $broker; wait $broker; exit\' TERM',
  'while kill -0 $0 2>/dev/null && kill -0 $broker 2>/dev/null; do sleep 1; done',
  'kill $broker 2>/dev/null',
  'wait $broker',
].join('\n');

interface PreparedBroker {
  bootstrapServers: string;
  dataDir: string;
  logFile: string;
  javaArgs: string[];
}

/** Writes server.properties and formats the storage (unless a broker already used this data dir). */
async function prepareBroker(options: BrokerOptions): Promise<PreparedBroker> {
  const libs = await kafkaJars();
  const port = options.port || (await freePort());
  const controllerPort = options.controllerPort || (await freePort());
  const dataDir = resolve(options.dataDir ?? (await mkdtemp(join(tmpdir(), 'pipec-kafka-'))));
  const logFile = options.logFile ?? join(dataDir, 'broker.log');
  const logDir = join(dataDir, 'log');
  mkdirSync(dataDir, { recursive: true });
  const properties = join(dataDir, 'server.properties');
  writeFileSync(properties, serverProperties(port, controllerPort, logDir));
  const classpath = ['-cp', join(libs, '*')];
  if (!existsSync(join(logDir, 'meta.properties'))) {
    const format = await run('java', [...classpath, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties]);
    if (format.code !== 0) throw new Error(`formatting the Kafka storage in ${logDir} failed (exit ${format.code}):\n${tail(format.output)}`);
  }
  return {
    bootstrapServers: `${HOST}:${port}`,
    dataDir,
    logFile,
    javaArgs: ['-Xmx512m', '-Dorg.slf4j.simpleLogger.showDateTime=true', ...classpath, 'kafka.Kafka', properties],
  };
}

/** One node that is both broker and controller, with every replication factor 1 so transactions and groups work alone. */
function serverProperties(port: number, controllerPort: number, logDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${HOST}:${controllerPort}`,
    `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${logDir}`,
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    // Kafka's default of 50 partitions makes the first group join and the first transaction create 50 logs each.
    'offsets.topic.num.partitions=4',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'transaction.state.log.num.partitions=4',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

async function waitUntilReady(broker: PreparedBroker, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  // Short timeouts: something else listening on the port would otherwise hold each attempt for kafkajs's 30 s.
  const admin = new Kafka({
    clientId: 'pipec-broker-probe',
    brokers: [broker.bootstrapServers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 0 },
    connectionTimeout: 1000,
    requestTimeout: 5000,
  }).admin();
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the Kafka broker exited (${child.exitCode ?? child.signalCode}) before it was ready; from ${broker.logFile}:\n${logExcerpt(broker.logFile)}`);
      }
      try {
        await admin.connect();
        await admin.describeCluster();
        return;
      } catch {
        if (Date.now() > deadline) {
          throw new Error(`the Kafka broker at ${broker.bootstrapServers} was not ready after ${READY_TIMEOUT_MS / 1000} s; from ${broker.logFile}:\n${logExcerpt(broker.logFile)}`);
        }
        await new Promise((resolveDelay) => setTimeout(resolveDelay, 250));
      }
    }
  } finally {
    await admin.disconnect();
  }
}

/** SIGTERM lets the broker close its logs cleanly; SIGKILL after the grace period ends a broker that hangs. */
async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  signalGroup(child, 'SIGTERM');
  const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Signals the watchdog's whole process group (the shell, the JVM and its sleep), which may already be gone. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-(child.pid as number), signal);
  } catch {
    // ESRCH: every process of the group has exited already.
  }
}

/** A free loopback port: the kernel picks one for a listener that closes at once. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * A Kafka cluster id: 16 random bytes in URL-safe base64 without padding, as `kafka-storage random-uuid` prints,
 * and like Kafka's Uuid.randomUuid never starting with `-`, which the storage tool would read as an option (1 in 64).
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

function run(command: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code: code ?? 1, output }));
  });
}

/**
 * The broker's ERROR lines with the exception each names (its shutdown logs hundreds of lines after them, so the end of
 * the log rarely says why it failed), else the log's last lines.
 */
function logExcerpt(file: string): string {
  if (!existsSync(file)) return '(no log)';
  const log = readFileSync(file, 'utf8');
  const excerpt: string[] = [];
  let inError = false;
  for (const line of log.split('\n')) {
    // slf4j-simple starts each entry with the milliseconds since start and the thread; other lines continue the entry above.
    if (/^\d+ \[/.test(line)) inError = / (ERROR|FATAL) /.test(line);
    if (inError && !/^\s+(at |\.\.\.)/.test(line)) excerpt.push(line);
  }
  return excerpt.length > 0 ? excerpt.slice(0, 20).join('\n') : tail(log);
}

function tail(text: string, lines = 30): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

// The dev broker of `npm run kafka:start` / `kafka:stop`: by default 127.0.0.1:9092 (its controller on the next port),
// its data, log and pid file under .pipec/kafka/ of the repo.
const DEV_PORT = 9092;
const DEV_DIR = resolve(dirname(POM), '..', '..', '.pipec', 'kafka');

interface DevBroker {
  pid: number;
  bootstrapServers: string;
}

/** Starts the dev broker in the background unless it already runs; its data survives stopping it. */
async function startDevBroker(dir: string, port: number): Promise<void> {
  const running = runningDevBroker(dir);
  if (running !== undefined) {
    console.log(`Kafka already runs at ${running.bootstrapServers} (pid ${running.pid})`);
    return;
  }
  const prepared = await prepareBroker({ port, controllerPort: port + 1, dataDir: dir });
  const log = openSync(prepared.logFile, 'a');
  const child = spawn('java', prepared.javaArgs, { stdio: ['ignore', log, log], detached: true });
  closeSync(log);
  const pidFile = join(dir, 'broker.json');
  writeFileSync(pidFile, JSON.stringify({ pid: child.pid as number, bootstrapServers: prepared.bootstrapServers } satisfies DevBroker));
  try {
    await waitUntilReady(prepared, child);
  } catch (error) {
    child.kill('SIGKILL');
    unlinkSync(pidFile);
    throw error;
  }
  child.unref();
  console.log(`Kafka ${KAFKA_VERSION} runs at ${prepared.bootstrapServers} (pid ${child.pid}, log ${prepared.logFile})`);
}

async function stopDevBroker(dir: string): Promise<void> {
  const running = runningDevBroker(dir);
  if (running === undefined) {
    console.log('Kafka does not run');
    return;
  }
  const { pid } = running;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_GRACE_MS;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolveDelay) => setTimeout(resolveDelay, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  unlinkSync(join(dir, 'broker.json'));
  console.log(`Kafka stopped (pid ${pid})`);
}

/** The dev broker of this data dir, if it runs; a pid file whose process is gone (or is no longer a broker) is stale and removed. */
function runningDevBroker(dir: string): DevBroker | undefined {
  const pidFile = join(dir, 'broker.json');
  if (!existsSync(pidFile)) return undefined;
  const broker = JSON.parse(readFileSync(pidFile, 'utf8')) as DevBroker;
  if (alive(broker.pid) && readFileSync(`/proc/${broker.pid}/cmdline`, 'utf8').includes('kafka.Kafka')) return broker;
  unlinkSync(pidFile);
  return undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const USAGE = 'usage: broker.ts start [--port 9092] [--dir .pipec/kafka] | stop [--dir .pipec/kafka]';

/** The command line: a bad argument gets one line and exit 2, a broker that fails to start its reason and exit 1. */
async function main(args: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { port: { type: 'string' }, dir: { type: 'string' } } });
  } catch (error) {
    // parseArgs explains at length how to pass a positional that starts with '-'; its first sentence is the point.
    usageError((error as Error).message.split('. ')[0]);
  }
  const { positionals, values } = parsed;
  const dir = resolve(values.dir ?? DEV_DIR);
  const port = values.port === undefined ? DEV_PORT : Number(values.port);
  if (!Number.isInteger(port) || port < 1 || port > 65534) usageError(`--port must be a port number below 65535, got '${values.port}'`);
  const command = positionals.join(' ');
  if (command === 'start') await startDevBroker(dir, port);
  else if (command === 'stop' && values.port === undefined) await stopDevBroker(dir);
  else if (command === 'stop') usageError('stop takes no --port: it finds the broker by its --dir');
  else usageError(command === '' ? 'no command' : `unknown command '${command}'`);
}

function usageError(message: string): never {
  console.error(`${message}; ${USAGE}`);
  process.exit(2);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error: Error) => {
    console.error(error.message);
    process.exit(1);
  });
}
