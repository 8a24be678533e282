/**
 * The largest protocol message (one WebSocket frame) the local endpoint takes; a larger one closes the sender's
 * connection (1009). Its own module, free of dependencies, so the page can check what it is about to send (an
 * OPML file) and say so, instead of losing its connection.
 */
export const MAX_PROTOCOL_MESSAGE_BYTES = 4 * 1024 * 1024;
