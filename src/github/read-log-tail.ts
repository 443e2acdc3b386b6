/**
 * The last `maxBytes` of a streamed body, holding no more than that (and one chunk) in memory: a job's
 * log may be hundreds of megabytes, and only its end says why the job failed.
 */
export async function readLogTail(body: ReadableStream<Uint8Array> | string | null | undefined, maxBytes: number): Promise<string> {
  if (body === null || body === undefined) return '';
  if (typeof body === 'string') return body.length > maxBytes ? body.slice(-maxBytes) : body;
  const chunks: Uint8Array[] = [];
  let held = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    held += chunk.length;
    while (chunks.length > 1 && held - chunks[0]!.length >= maxBytes) held -= chunks.shift()!.length;
  }
  const all = Buffer.concat(chunks);
  const tail = all.length > maxBytes ? all.subarray(all.length - maxBytes) : all;
  // a cut in the middle of a character would show as a replacement character: start at the next line
  const text = tail.toString('utf8');
  const cut = all.length > maxBytes ? text.indexOf('\n') : -1;
  return cut >= 0 ? text.slice(cut + 1) : text;
}
