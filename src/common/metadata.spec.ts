import { metadataProblems } from './metadata';

const keys = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));

describe('metadata limits', () => {
  it('takes up to 20 keys of up to 40 characters with string values of up to 500', () => {
    expect(metadataProblems({}, 'body')).toEqual([]);
    expect(metadataProblems(keys(20), 'body')).toEqual([]);
    expect(metadataProblems({ ['k'.repeat(40)]: 'v'.repeat(500) }, 'body')).toEqual([]);
    // characters, not UTF-16 units: 40 emoji are 80 units
    expect(metadataProblems({ ['😀'.repeat(40)]: '😀'.repeat(500) }, 'body')).toEqual([]);
    expect(metadataProblems({ 'any key: é/ü.{}"\'': 'x', '0': 'y', toString: 'z' }, 'body')).toEqual([]);
  });

  it('names the key each problem is about, as metadata.key in a body and metadata[key] in a query', () => {
    const long = 'k'.repeat(41);
    expect(metadataProblems({ [long]: 'v', ok: 'v', n: 5, '': 'x', 'a[b]': 'x', e: '', big: 'v'.repeat(501) }, 'body')).toEqual([
      { field: `metadata.${long}`, message: `metadata key ${long} is longer than 40 characters` },
      { field: 'metadata.n', message: 'metadata.n must be a string (got a number)' },
      { field: 'metadata', message: 'metadata keys must not be empty' },
      { field: 'metadata.a[b]', message: 'metadata key a[b] must not contain [ or ]' },
      { field: 'metadata.e', message: 'metadata.e must not be empty; leave the key out instead' },
      { field: 'metadata.big', message: 'metadata.big must be at most 500 characters long' },
    ]);
    expect(metadataProblems({ [long]: 'v', twice: ['a', 'b'] }, 'query')).toEqual([
      { field: `metadata[${long}]`, message: `metadata key ${long} is longer than 40 characters` },
      { field: 'metadata[twice]', message: 'metadata[twice] must be given once (got an array)' },
    ]);
  });

  it('refuses nested objects, arrays, booleans and nulls as values', () => {
    for (const bad of [{ a: 1 }, ['x'], true, null]) {
      expect(metadataProblems({ key: bad }, 'body').map((p) => p.field)).toEqual(['metadata.key']);
    }
  });

  it('refuses more than 20 keys with one problem naming metadata', () => {
    expect(metadataProblems(keys(21), 'body')).toEqual([{ field: 'metadata', message: 'metadata may have at most 20 keys (got 21)' }]);
    expect(metadataProblems(keys(21), 'query')).toEqual([{ field: 'metadata', message: 'metadata may have at most 20 keys (got 21)' }]);
  });

  it('refuses anything but an object', () => {
    for (const bad of ['x', 1, null, ['a'], true]) expect(metadataProblems(bad, 'body').map((p) => p.field)).toEqual(['metadata']);
    expect(metadataProblems('conv_1', 'query')[0].message).toContain('metadata[key]=value');
  });
});
