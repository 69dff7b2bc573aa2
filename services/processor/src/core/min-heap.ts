// The heap moved to @calwatch/shared (the replay merge uses it too); this path stays for
// the runtime modules that import it from here.
export { MinHeap } from '@calwatch/shared';
