// The part of @xmpp/client (which ships no types) the XMPP channel and its test use.
declare module '@xmpp/client' {
  export interface XmlElement {
    name: string;
    attrs: Record<string, string>;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmlElement | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    getText(): string;
  }
  export function xml(name: string, attrs?: Record<string, string | undefined>, ...children: (XmlElement | string)[]): XmlElement;
  export interface XmppClient {
    status: string;
    start(): Promise<unknown>;
    stop(): Promise<void>;
    send(element: XmlElement): Promise<void>;
    isSecure(): boolean;
    on(event: 'error', listener: (err: Error & { condition?: string; code?: string }) => void): this;
    on(event: 'stanza', listener: (stanza: XmlElement) => void): this;
    on(event: 'online', listener: (jid: unknown) => void): this;
    on(event: string, listener: (...args: any[]) => void): this;
    reconnect: { stop(): void };
    iqCaller: { request(element: XmlElement, timeoutMs?: number): Promise<XmlElement> };
  }
  export function client(options: { service: string; domain?: string; resource?: string; username?: string; password?: string }): XmppClient;
}
