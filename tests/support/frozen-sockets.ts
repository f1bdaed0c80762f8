import { connect, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';

/**
 * A kafkajs `socketFactory` whose connections a test can freeze: a frozen connection stays open and
 * still sends, but nothing it receives reaches the client, ever (what a connection to a broker that
 * died without closing it looks like). `freeze()` freezes every connection open and every one opened
 * until `thaw()`; thawing lets new connections work and leaves the frozen ones frozen.
 */
export class FreezableSockets {
  private frozen = false;
  private readonly open = new Set<Socket>();
  /** How many connections were opened while frozen (so frozen from their start). */
  openedFrozen = 0;

  readonly socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    this.open.add(socket);
    socket.on('close', () => this.open.delete(socket));
    if (this.frozen) {
      this.openedFrozen += 1;
      hold(socket);
    }
    return socket;
  };

  freeze(): void {
    this.frozen = true;
    for (const socket of this.open) hold(socket);
  }

  thaw(): void {
    this.frozen = false;
  }

  /** Closes every connection still open (the frozen ones included), at the end of a test. */
  destroyAll(): void {
    for (const socket of this.open) socket.destroy();
  }
}

/** Delivers nothing the socket receives from now on, whoever asks it to resume. */
function hold(socket: Socket): void {
  socket.pause();
  socket.resume = () => socket;
}
