import { describe, expect, it } from 'vitest';
import { CarriedText, RAW_PREFIX_CHARS } from './carried-text';

describe('CarriedText', () => {
  it('keeps the text whole up to the limit', () => {
    const carried = new CarriedText(10);
    expect(carried.add('abcde')).toBe(false);
    expect(carried.add('fghij')).toBe(false);
    expect(carried).toMatchObject({ text: 'abcdefghij', tooLarge: false });
  });

  it('past the limit keeps only the first characters, and says so once', () => {
    const carried = new CarriedText(RAW_PREFIX_CHARS + 10);
    expect(carried.add('x'.repeat(RAW_PREFIX_CHARS))).toBe(false);
    expect(carried.add('y'.repeat(20))).toBe(true);
    expect(carried.add('z'.repeat(20))).toBe(false);
    expect(carried.tooLarge).toBe(true);
    expect(carried.text).toBe('x'.repeat(RAW_PREFIX_CHARS));
  });

  it('starts over after clear', () => {
    const carried = new CarriedText(3);
    carried.add('abcd');
    carried.clear();
    expect(carried).toMatchObject({ text: '', tooLarge: false });
    expect(carried.add('abc')).toBe(false);
    expect(carried.text).toBe('abc');
  });
});
