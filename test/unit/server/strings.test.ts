import { describe, expect, it } from 'vitest';
import { stringProblem } from '../../../src/server/strings.ts';

describe('stringProblem', () => {
  it.each([
    ['plain text', 'SN candidate', null],
    ['free text with tab, line feed, carriage return', 'a\tb\r\nc', null],
    ['non-ASCII letters and a surrogate pair', 'Überraschung 🔭', null],
    ['a lone high surrogate', 'ab\ud800', 'lone UTF-16 surrogate at character 2'],
    ['a lone low surrogate', '\udc00x', 'lone UTF-16 surrogate at character 0'],
    ['NUL', 'a\u0000', 'U+0000 at character 1'],
    ['escape', '\u001b[31m', 'U+001B at character 0'],
    ['DEL', 'x\u007f', 'U+007F'],
    ['a C1 control', 'x\u0085', 'U+0085'],
  ])('%s', (_name, value, problem) => {
    const found = stringProblem(value);
    if (problem === null) expect(found).toBeNull();
    else expect(found).toContain(problem);
  });
});
