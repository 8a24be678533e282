/** `p`, or a rejection with `message` after `ms` (calling `onTimeout` first, to close what `p` waits on). */
export function withTimeout<T>(p: Promise<T>, ms: number, message = 'timeout', onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      onTimeout?.();
      reject(new Error(message));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
