/**
 * The bound on work in progress: requests and body bytes being read and published. A
 * request enters with its declared size (Content-Length) and grows its share with the
 * bytes it actually decodes, so chunked and gzip bodies count too. When Kafka slows down,
 * requests hold their share longer and new ones are refused at once (429) instead of
 * queueing without limit.
 */
export interface InFlightBudget {
  /** A lease, or undefined when the budget cannot take this request now. */
  tryAcquire(bytes: number): InFlightLease | undefined;
  readonly requests: number;
  readonly bytes: number;
}

export interface InFlightLease {
  /** Raises this request's share to `bytes` (never lowers it); false when the budget cannot take that. */
  grow(bytes: number): boolean;
  /** Gives the share back; calling it again does nothing. */
  release(): void;
}

export function createInFlightBudget(limits: { maxRequests: number; maxBytes: number }): InFlightBudget {
  let requests = 0;
  let bytes = 0;
  return {
    tryAcquire(wanted) {
      let size = Math.max(0, wanted);
      // A single body larger than the byte budget is still let in alone, so the byte budget
      // never refuses what the body-size limit allows.
      if (requests >= limits.maxRequests || (requests > 0 && bytes + size > limits.maxBytes)) return undefined;
      requests += 1;
      bytes += size;
      let released = false;
      return {
        grow(total) {
          if (released || total <= size) return true;
          const extra = total - size;
          if (requests > 1 && bytes + extra > limits.maxBytes) return false;
          bytes += extra;
          size = total;
          return true;
        },
        release() {
          if (released) return;
          released = true;
          requests -= 1;
          bytes -= size;
        },
      };
    },
    get requests() {
      return requests;
    },
    get bytes() {
      return bytes;
    },
  };
}
