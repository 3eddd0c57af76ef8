// The messages a receiver sends: HELLO-ACK, ACK and ANSWER, each tagged when the gateway has a key.
// These go out at control rates (one per HELLO, one ACK per gateway per commit, one per QUERY), so
// they use the codec's plain encoder into a fresh buffer that the socket then owns.
import {
  AnswerStatus,
  HANDOFF_VERSION,
  MessageType,
  ReceiverFlag,
  Size,
  datagram,
  signDatagram,
  type HandoffEntry,
  type HandoffMessage,
} from '@nat64/handoff-codec';

function encode(message: HandoffMessage, key: Uint8Array | undefined): Buffer {
  const length = datagram.encodingLength(message);
  const buffer = Buffer.alloc(length + (key ? Size.TAG : 0));
  datagram.encode(message, buffer, 0);
  if (key) signDatagram(buffer, 0, length, key);
  return buffer;
}

export interface ReplyContext {
  epoch: bigint;
  cookie: bigint;
  key: Uint8Array | undefined;
}

export function helloAck(context: ReplyContext, sequence: number, authoritative: boolean, window: number, capabilities: number): Buffer {
  return encode(
    {
      type: MessageType.HELLO_ACK,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: context.epoch,
      cookie: context.cookie,
      sequence,
      receiverFlags: authoritative ? ReceiverFlag.AUTHORITATIVE : 0,
      capabilities,
      window,
    },
    context.key,
  );
}

export function ack(context: ReplyContext, cumulative: number): Buffer {
  return encode(
    { type: MessageType.ACK, version: HANDOFF_VERSION, flags: 0, epoch: context.epoch, cookie: context.cookie, sequence: 0, cumulative, blocks: [] },
    context.key,
  );
}

export type AnswerOutcome =
  | { status: typeof AnswerStatus.FOUND; entry: HandoffEntry }
  | { status: typeof AnswerStatus.NOT_FOUND | typeof AnswerStatus.NOT_AUTHORITATIVE };

export function answer(context: ReplyContext, sequence: number, outcome: AnswerOutcome): Buffer {
  return encode(
    {
      type: MessageType.ANSWER,
      version: HANDOFF_VERSION,
      flags: 0,
      epoch: context.epoch,
      cookie: context.cookie,
      sequence,
      status: outcome.status,
      entry: outcome.status === AnswerStatus.FOUND ? outcome.entry : null,
    },
    context.key,
  );
}
