// Reads grpc-js's own channelz registry (through its public getChannelzHandlers()) to learn which
// sockets a channel owns right now and what peer certificate each one was shown. Synchronous in
// practice: the handlers answer from memory.

import { X509Certificate } from 'node:crypto';
import { type Channel, getChannelzHandlers } from '@grpc/grpc-js';

/** One connection of a channel, as channelz sees it. */
export interface SocketInfo {
  /** channelz socket id: the `(N)` that grpc-js's transport trace lines start with. */
  id: number;
  /** The peer's leaf certificate, for TLS connections. */
  peerCertificate?: X509Certificate;
}

type Handler = (
  call: { request: Record<string, string> },
  callback: (err: unknown, value?: unknown) => void,
) => void;
const handlers = getChannelzHandlers() as unknown as Record<string, Handler>;

function ask<T>(method: string, request: Record<string, string>): T | undefined {
  let answer: T | undefined;
  handlers[method]?.({ request }, (err, value) => {
    if (!err) answer = value as T;
  });
  return answer;
}

interface ChannelMessage {
  channel: { subchannel_ref: { subchannel_id: string }[] };
}
interface SubchannelMessage {
  subchannel: { socket_ref: { socket_id: string }[] };
}
interface SocketMessage {
  socket: { security: { tls?: { remote_certificate?: Buffer } } | null };
}

/** The sockets currently open under a channel's subchannels; empty if channelz is disabled. */
export function channelSockets(channel: Channel): SocketInfo[] {
  const channelId = String(channel.getChannelzRef().id);
  const subchannels =
    ask<ChannelMessage>('GetChannel', { channel_id: channelId })?.channel.subchannel_ref ?? [];
  const sockets: SocketInfo[] = [];
  for (const { subchannel_id } of subchannels) {
    const refs = ask<SubchannelMessage>('GetSubchannel', { subchannel_id })?.subchannel.socket_ref ?? [];
    for (const { socket_id } of refs) {
      const der = ask<SocketMessage>('GetSocket', { socket_id })?.socket.security?.tls?.remote_certificate;
      const info: SocketInfo = { id: Number(socket_id) };
      if (der && der.length > 0) {
        try {
          info.peerCertificate = new X509Certificate(der);
        } catch {
          // A certificate Node cannot parse gives no expiry; the connection itself is fine.
        }
      }
      sockets.push(info);
    }
  }
  return sockets;
}
