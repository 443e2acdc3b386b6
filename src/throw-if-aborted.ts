/** Stops a pipeline step once its run was cancelled, with the reason it was cancelled for. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('cancelled');
}
