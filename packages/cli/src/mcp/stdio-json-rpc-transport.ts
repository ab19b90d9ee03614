import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, JSONRPCMessageSchema, type JSONRPCMessage, type RequestId } from '@modelcontextprotocol/sdk/types.js';

/**
 * The longest message taken, in bytes: room for the largest content the store takes (1 MiB, up to
 * 6 MiB once JSON escapes its control characters) with its metadata (256 KiB), as the SDK's 10 MiB.
 */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/**
 * MCP over stdio: one JSON-RPC message a line, in on stdin and out on stdout, as the SDK's
 * StdioServerTransport does, but with an answer to every line. The SDK's transport passes a line
 * that is not JSON, or not a JSON-RPC message, to `onerror` only, so its sender waits for an answer
 * that never comes; a line longer than its buffer closes the connection. Here, as JSON-RPC 2.0 asks,
 * such a line is answered with a Parse error (-32700) or an Invalid Request (-32600) that says what
 * was wrong (with the request's id when it can be read), and the server goes on reading.
 */
export class StdioJsonRpcTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #input: Readable;
  readonly #output: Writable;
  /** The start of the line being read, in the chunks it came in. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** The line being read is too long, was answered, and is skipped up to its end. */
  #skippingLine = false;

  constructor(input: Readable = process.stdin, output: Writable = process.stdout) {
    this.#input = input;
    this.#output = output;
  }

  async start(): Promise<void> {
    this.#input.on('data', this.#onData);
    this.#input.on('error', this.#onInputError);
  }

  async close(): Promise<void> {
    this.#input.off('data', this.#onData);
    this.#input.off('error', this.#onInputError);
    if (this.#input.listenerCount('data') === 0) this.#input.pause();
    this.#pending = [];
    this.#pendingBytes = 0;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.#output.write(`${JSON.stringify(message)}\n`)) resolve();
      else this.#output.once('drain', resolve);
    });
  }

  readonly #onInputError = (error: Error): void => {
    this.onerror?.(error);
  };

  readonly #onData = (chunk: Buffer | string): void => {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let end = bytes.indexOf(0x0a, start); end !== -1; end = bytes.indexOf(0x0a, start)) {
      this.#endLine(bytes.subarray(start, end));
      start = end + 1;
    }
    if (start < bytes.length) this.#continueLine(bytes.subarray(start));
  };

  #continueLine(piece: Buffer): void {
    if (this.#skippingLine) return;
    if (this.#pendingBytes + piece.length > MAX_MESSAGE_BYTES) {
      this.#refuseLongLine();
      return;
    }
    this.#pending.push(piece);
    this.#pendingBytes += piece.length;
  }

  #endLine(piece: Buffer): void {
    if (this.#skippingLine) {
      this.#skippingLine = false;
      return;
    }
    if (this.#pendingBytes + piece.length > MAX_MESSAGE_BYTES) {
      this.#refuseLongLine();
      this.#skippingLine = false;
      return;
    }
    const line = this.#pendingBytes === 0 ? piece : Buffer.concat([...this.#pending, piece]);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#receive(line.toString('utf8'));
  }

  #refuseLongLine(): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#skippingLine = true;
    this.#refuse(undefined, ErrorCode.InvalidRequest, `Invalid Request: a message longer than ${MAX_MESSAGE_BYTES} bytes`);
  }

  #receive(line: string): void {
    // A blank line (or the \r of a \r\n) carries no request that anyone could wait for.
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      this.#refuse(undefined, ErrorCode.ParseError, `Parse error: the line is not JSON (${(error as Error).message})`);
      return;
    }
    const parsed = JSONRPCMessageSchema.safeParse(value);
    if (parsed.success) {
      this.onmessage?.(parsed.data);
      return;
    }
    // A malformed answer to one of the server's own requests gets no answer: JSON-RPC never answers a response.
    if (isObject(value) && !('method' in value) && ('result' in value || 'error' in value)) {
      this.onerror?.(new Error(`not a JSON-RPC response: ${line.slice(0, 200)}`));
      return;
    }
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(message)'}: ${issue.message}`).join('; ');
    this.#refuse(requestIdOf(value), ErrorCode.InvalidRequest, `Invalid Request: not a JSON-RPC 2.0 request or notification (${issues})`);
  }

  /** Answers a line that could not be taken, and reports it to `onerror` (the server's log). */
  #refuse(id: RequestId | undefined, code: ErrorCode, message: string): void {
    this.onerror?.(new Error(message));
    // MCP's error response leaves out the id it could not read (JSON-RPC 2.0 writes null there;
    // MCP's schema, and the SDK's client, take only a string or a number, or none).
    void this.send({ jsonrpc: '2.0', ...(id === undefined ? {} : { id }), error: { code, message } } as JSONRPCMessage);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requestIdOf(value: unknown): RequestId | undefined {
  if (!isObject(value)) return undefined;
  const id = value['id'];
  return typeof id === 'string' || (typeof id === 'number' && Number.isInteger(id)) ? id : undefined;
}
