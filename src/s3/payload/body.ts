// Reading a small request body whole (XML, JSON), with its size capped as the
// bytes arrive: a Content-Length header is the client's word, not a bound.

/** The whole stream, or `tooLarge()` as soon as more than `max` bytes have arrived (the rest is not read). */
export async function readAtMost(body: ReadableStream<Uint8Array> | null, max: number, tooLarge: () => Error): Promise<Uint8Array> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      n += value.byteLength;
      if (n > max) throw tooLarge();
      chunks.push(value);
    }
  } catch (e) {
    await reader.cancel(e).catch(() => {});
    throw e;
  }
  const out = new Uint8Array(n);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}
