/** A promise the test resolves when it chooses: `open()` lets whatever awaits `promise` go on. */
export interface Gate {
  open(): void;
  promise: Promise<void>;
}

export function gate(): Gate {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, promise };
}
