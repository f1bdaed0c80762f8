import { connect, type Socket } from 'node:net';

/** One answer read off a raw connection. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what a connection received into its answers (each with a Content-Length body). */
function answersIn(text: string): RawAnswer[] {
  const answers: RawAnswer[] = [];
  let rest = Buffer.from(text);
  for (;;) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) return answers;
    const [statusLine = '', ...lines] = rest.subarray(0, end).toString().split('\r\n');
    const headers = Object.fromEntries(
      lines.map((line) => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()];
      }),
    );
    const length = Number(headers['content-length'] ?? 0);
    if (rest.length < end + 4 + length) return answers;
    const status = Number(statusLine.split(' ')[1]);
    // `100 Continue` is not an answer, only word that the request is being handled.
    if (status >= 200)
      answers.push({ status, headers, body: rest.subarray(end + 4, end + 4 + length).toString() });
    rest = rest.subarray(end + 4 + length);
  }
}

/**
 * A request kept in flight on a connection of its own: `POST /nowhere` whose body is one byte short,
 * so the server cannot count the connection idle and close it when it shuts down (Node closes only
 * idle ones and waits for the others). `open` resolves once the server handles it: it asks for
 * `100 Continue`, which Node sends as it hands the request over. `followWith(path)` sends the missing byte with `GET <path>`
 * pipelined behind it, and resolves with the answer to that GET once the server has closed the
 * connection (or the deadline passed).
 */
export class HeldRequest {
  received = '';
  private readonly closed: Promise<void>;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => {
      this.received += chunk.toString();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static async open(port: number): Promise<HeldRequest> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => undefined);
    const held = new HeldRequest(socket);
    socket.write(
      'POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 2\r\nexpect: 100-continue\r\n\r\n{',
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no 100 Continue within 10 s')), 10_000);
      socket.on('data', () => {
        if (!held.received.startsWith('HTTP/1.1 100')) return;
        clearTimeout(timer);
        resolve();
      });
    });
    return held;
  }

  async followWith(path: string, timeoutMs = 20_000): Promise<RawAnswer | undefined> {
    this.socket.write(`}GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.closed, deadline]).finally(() => clearTimeout(timer));
    this.socket.destroy();
    return answersIn(this.received)[1];
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Whether a new connection to `port` is refused: a server that has begun to close takes no more. */
export function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
