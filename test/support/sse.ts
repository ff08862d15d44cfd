/** One Server-Sent Events frame as the stream carried it. */
export interface SseFrame {
  event?: string;
  id?: string;
  /** The frame's data lines, joined by newlines as EventSource joins them. */
  data?: string;
  comment?: string;
}

export interface EventStream {
  response: Response;
  /** Every frame so far, in arrival order (keep-alive comments included). */
  frames: SseFrame[];
  /** Whether the server ended the stream. */
  ended(): boolean;
  /** Closes the stream from this side; resolves once reading has stopped. */
  disconnect(): Promise<void>;
}

/** Opens an SSE stream with fetch and parses its frames as they arrive. */
export async function openEventStream(url: string, init: RequestInit = {}): Promise<EventStream> {
  const abort = new AbortController();
  const response = await fetch(url, { ...init, signal: abort.signal });
  const frames: SseFrame[] = [];
  let ended = false;
  const reading = (async () => {
    if (!response.body) return;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          frames.push(parseFrame(buffer.slice(0, end)));
          buffer = buffer.slice(end + 2);
        }
      }
      ended = true;
    } catch {
      // The client's own disconnect.
    }
  })();
  return {
    response,
    frames,
    ended: () => ended,
    disconnect() {
      abort.abort();
      return reading;
    },
  };
}

/** The frames that carry an event, with their data parsed as JSON. */
export function jsonEvents(stream: EventStream): { event: string; id?: string; data: any }[] {
  return stream.frames
    .filter((frame) => frame.event !== undefined && frame.data !== undefined)
    .map((frame) => ({ event: frame.event as string, id: frame.id, data: JSON.parse(frame.data as string) }));
}

function parseFrame(text: string): SseFrame {
  const frame: SseFrame = {};
  for (const line of text.split('\n')) {
    if (line.startsWith(':')) {
      frame.comment = line.slice(1).trim();
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
    else if (field === 'event' || field === 'id') frame[field] = value;
  }
  return frame;
}
