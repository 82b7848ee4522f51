// The fixed `state` label enum of the channel series: grpc-js connectivity states, in grpc-js's own
// numeric order (connectivityState.IDLE = 0 ... SHUTDOWN = 4), so a number indexes this list.

export const CHANNEL_STATES = ['IDLE', 'CONNECTING', 'READY', 'TRANSIENT_FAILURE', 'SHUTDOWN'] as const;
export type ChannelState = (typeof CHANNEL_STATES)[number];
