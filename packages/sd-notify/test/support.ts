// A unix datagram socket to receive notifications on, held by python3 (Node has none): it prints
// each datagram as one JSON string line on stdout.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

const LISTENER = `
import json, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(("\\0" + path[1:]) if path.startswith("@") else path)
print(json.dumps("LISTENING"), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps(data.decode()), flush=True)
`;

export interface NotifyListener {
  /** Every message received so far. */
  readonly messages: string[];
  /**
   * The next message `accept` takes, read in order: those before it are passed over, and the one
   * after it is where the next call starts (a message that came before the call counts too).
   */
  next(accept: (message: string) => boolean): Promise<string>;
  close(): void;
}

export async function listenNotify(path: string): Promise<NotifyListener> {
  const child: ChildProcess = spawn('python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: string[] = [];
  let cursor = 0;
  let waiter: { accept: (message: string) => boolean; resolve: (message: string) => void } | undefined;
  const serve = () => {
    while (waiter !== undefined && cursor < messages.length) {
      const message = messages[cursor++]!;
      if (!waiter.accept(message)) continue;
      const { resolve } = waiter;
      waiter = undefined;
      resolve(message);
    }
  };
  let listening: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const message = JSON.parse(line) as string;
    if (message === 'LISTENING') return listening();
    messages.push(message);
    serve();
  });
  await ready;
  return {
    messages,
    next: (accept) =>
      new Promise((resolve) => {
        if (waiter !== undefined) throw new Error('one next() at a time');
        waiter = { accept, resolve };
        serve();
      }),
    close: () => void child.kill(),
  };
}
