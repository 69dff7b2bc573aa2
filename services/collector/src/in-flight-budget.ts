/**
 * The bound on work in progress: requests and declared body bytes being read and
 * published. When Kafka slows down, requests hold their share longer and new ones are
 * refused at once (429) instead of queueing without limit.
 */
export interface InFlightBudget {
  /** A release function, or undefined when the budget cannot take this request now. */
  tryAcquire(bytes: number): (() => void) | undefined;
  readonly requests: number;
  readonly bytes: number;
}

export function createInFlightBudget(limits: { maxRequests: number; maxBytes: number }): InFlightBudget {
  let requests = 0;
  let bytes = 0;
  return {
    tryAcquire(wanted) {
      const size = Math.max(0, wanted);
      // A single body larger than the byte budget is still let in alone, so the byte budget
      // never refuses what the body-size limit allows.
      if (requests >= limits.maxRequests || (requests > 0 && bytes + size > limits.maxBytes)) return undefined;
      requests += 1;
      bytes += size;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        requests -= 1;
        bytes -= size;
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
