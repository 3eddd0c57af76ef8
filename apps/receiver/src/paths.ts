// Where the receiver keeps its database unless told otherwise; a module of its own so that the
// lean `lookup` path (lookup-main.ts) need not load the configuration reader.
export const DEFAULT_DATABASE = '/var/lib/nat64-receiver/connections.db';
