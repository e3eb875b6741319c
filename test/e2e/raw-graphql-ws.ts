// A graphql-transport-ws client made of raw frames, for tests that must send what a real client
// never would: messages in the wrong order, malformed, or repeated.

import WebSocket from 'ws';

export const PROTOCOL = 'graphql-transport-ws';

export interface Message {
  type: string;
  id?: string;
  payload?: unknown;
}

/** One raw socket: frames in, messages out in arrival order, and how it closed. */
export class RawSocket {
  readonly socket: WebSocket;
  readonly received: Message[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private constructor(url: string, protocol: string | null) {
    this.socket = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
    this.socket.on('message', (data) => {
      this.received.push(JSON.parse(String(data)) as Message);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.closed = new Promise((resolve) => {
      this.socket.once('close', (code, reason) => {
        for (const wake of this.waiters.splice(0)) wake();
        resolve({ code, reason: String(reason) });
      });
    });
  }

  /** `protocol: null` offers no subprotocol at all. */
  static async open(url: string, protocol: string | null = PROTOCOL): Promise<RawSocket> {
    const raw = new RawSocket(url, protocol);
    await new Promise((resolve, reject) => {
      raw.socket.once('open', resolve);
      raw.socket.once('error', reject);
    });
    return raw;
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first received message (past or future) that matches; rejects if the socket closes first. */
  async waitFor(match: (message: Message) => boolean): Promise<Message> {
    for (;;) {
      const found = this.received.find(match);
      if (found) return found;
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`socket closed before the message arrived: ${JSON.stringify(this.received)}`);
      await new Promise<void>((wake) => this.waiters.push(wake));
    }
  }

  /** connection_init with the key, then the ack. */
  async init(apiKey: string): Promise<void> {
    this.send({ type: 'connection_init', payload: { apiKey } });
    await this.waitFor((message) => message.type === 'connection_ack');
  }

  close(): void {
    this.socket.close();
  }
}
