// Apart from the server so that `serve`'s flags can show them without loading the server.
export const DEFAULT_PORT = 23000
export const DEFAULT_MAX_CLIENTS = 64
