/**
 * Typed columns carved out of one ArrayBuffer, in the order they are asked for (each aligned
 * to its element size). Rows held this way are let go as a whole: one block is one
 * allocation, and a block of 32 MiB or more is a mapping of its own that the C allocator
 * gives back to the system when it is freed, where many smaller columns would leave holes in
 * its heap that the process keeps (see docs/detection.md, "analyze at a million rows").
 */
export class ColumnBlock {
  private used = 0;
  private readonly buffer: ArrayBuffer;

  constructor(bytes: number) {
    this.buffer = new ArrayBuffer(bytes);
  }

  /** Bytes a block needs for columns of these element sizes and lengths (alignment included). */
  static bytesFor(columns: readonly (readonly [elementBytes: number, length: number])[]): number {
    let bytes = 0;
    for (const [size, length] of columns) bytes = align(bytes, size) + size * length;
    return bytes;
  }

  f64(length: number): Float64Array {
    return new Float64Array(this.buffer, this.take(8, length), length);
  }

  u32(length: number): Uint32Array {
    return new Uint32Array(this.buffer, this.take(4, length), length);
  }

  u8(length: number): Uint8Array {
    return new Uint8Array(this.buffer, this.take(1, length), length);
  }

  bytes(length: number): Buffer {
    return Buffer.from(this.buffer, this.take(1, length), length);
  }

  private take(size: number, length: number): number {
    const at = align(this.used, size);
    if (at + size * length > this.buffer.byteLength) throw new RangeError(`ColumnBlock: ${size * length} bytes past a block of ${this.buffer.byteLength}`);
    this.used = at + size * length;
    return at;
  }
}

function align(at: number, size: number): number {
  return Math.ceil(at / size) * size;
}
