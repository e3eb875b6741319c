// A TCP proxy on loopback that plays a network that fails silently: put between the server and
// PostgreSQL (or Redis), it forwards, or black-holes (connections are accepted and their bytes
// swallowed, with no RST and no reply, as a dropped route or a dead middlebox does), or drops only
// the replies (requests reach the database and are executed, their answers never come back: a
// commit whose reply is lost). A connection that lost bytes stays silent for good, as a real one
// whose stream broke would be useless; connections made after forwarding resumes work normally.
// loseRepliesAfter() aims the fault at one exchange: the first connection whose requests show the
// given texts in order (e.g. a statement, then COMMIT) loses every reply from that point on, so
// the database commits a transaction whose answer never arrives.

import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'forward' | 'black-hole' | 'drop-replies';

interface Pair {
  client: Socket;
  /** How far this connection's requests went through the armed patterns. */
  matched: number;
  upstream: Socket | null;
  /** What this connection does with each direction, from now on. */
  up: 'forward' | 'swallow';
  down: 'forward' | 'swallow';
}

export class BlackHoleProxy {
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  readonly #server: Server;
  #mode: ProxyMode = 'forward';
  #armed: { patterns: Buffer[]; fired: () => void } | null = null;
  /** Bytes swallowed so far in each direction (a test can check the fault really happened). */
  readonly swallowed = { up: 0, down: 0 };

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => this.#accept(client));
  }

  static async start(target: { host: string; port: number }): Promise<BlackHoleProxy> {
    const proxy = new BlackHoleProxy(target);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as { port: number }).port;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Connections accepted and not closed by their client. */
  get connections(): number {
    return [...this.#pairs].filter((pair) => !pair.client.destroyed).length;
  }

  /**
   * 'black-hole': every open connection and every new one swallows both directions.
   * 'drop-replies': open and new connections forward requests but swallow the replies.
   * 'forward': new connections work again (the ones that lost bytes stay silent).
   */
  setMode(mode: ProxyMode): void {
    this.#mode = mode;
    if (mode === 'forward') return;
    for (const pair of this.#pairs) this.#degrade(pair, mode);
  }

  /**
   * Arms a one-shot fault: the first connection that sends `patterns` in order (each in a later or
   * the same chunk as the one before, as pg sends one message per statement) has every reply after
   * the chunk holding the last one swallowed. Resolves when it fired.
   */
  loseRepliesAfter(...patterns: string[]): Promise<void> {
    return new Promise((fired) => {
      this.#armed = { patterns: patterns.map((p) => Buffer.from(p, 'utf8')), fired };
      for (const pair of this.#pairs) pair.matched = 0;
    });
  }

  async close(): Promise<void> {
    for (const pair of this.#pairs) {
      pair.client.destroy();
      pair.upstream?.destroy();
    }
    this.#pairs.clear();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #degrade(pair: Pair, mode: Exclude<ProxyMode, 'forward'>): void {
    pair.down = 'swallow';
    if (mode === 'black-hole') pair.up = 'swallow';
  }

  #watch(pair: Pair, chunk: Buffer): void {
    const armed = this.#armed;
    if (armed === null) return;
    let from = 0;
    while (pair.matched < armed.patterns.length) {
      const at = chunk.indexOf(armed.patterns[pair.matched], from);
      if (at < 0) return;
      from = at + armed.patterns[pair.matched].length;
      pair.matched++;
    }
    this.#armed = null;
    pair.down = 'swallow';
    armed.fired();
  }

  #accept(client: Socket): void {
    const pair: Pair = { client, matched: 0, upstream: null, up: 'forward', down: 'forward' };
    if (this.#mode !== 'forward') this.#degrade(pair, this.#mode);
    this.#pairs.add(pair);
    // A black hole never connects onward: the client waits for a handshake that never comes.
    const upstream = pair.up === 'forward' ? createConnection(this.#target) : null;
    pair.upstream = upstream;
    client.on('data', (chunk: Buffer) => {
      if (pair.up === 'forward' && upstream !== null) upstream.write(chunk);
      else this.swallowed.up += chunk.length;
      this.#watch(pair, chunk);
    });
    upstream?.on('data', (chunk: Buffer) => {
      if (pair.down === 'forward') client.write(chunk);
      else this.swallowed.down += chunk.length;
    });
    client.on('error', () => {});
    upstream?.on('error', () => {});
    client.on('close', () => {
      // The client gave the connection up. A live one is ended onward; a silent one is left
      // open upstream (until close()), as the database would not learn of a connection lost in
      // the network.
      if (pair.up === 'forward' && pair.down === 'forward') {
        this.#pairs.delete(pair);
        upstream?.destroy();
      }
    });
    upstream?.on('close', () => {
      if (pair.down === 'forward') {
        this.#pairs.delete(pair);
        client.destroy();
      }
    });
  }
}
