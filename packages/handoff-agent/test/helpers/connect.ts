// Brings a peer up the way the protocol does: a first mapping makes the agent HELLO, the scripted
// receiver answers. The first mapping's fire-and-forget datagram is superseded by that answer.
import { HOST, NAT, tcpEntry } from './entries.js';
import { ScriptedReceiver, type Harness, type ReceiverScript } from './harness.js';

export function connect(harness: Harness, script: Partial<ReceiverScript> = {}, natAddress = NAT, host = HOST): ScriptedReceiver {
  const receiver = new ScriptedReceiver(harness, natAddress, host, script);
  harness.agent.mappingCreated(natAddress, host, tcpEntry(9999, natAddress, host));
  receiver.answerHello();
  harness.take();
  return receiver;
}
