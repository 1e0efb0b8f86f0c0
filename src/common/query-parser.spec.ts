import { parseQueryString } from './query-parser';

const plain = (value: unknown) => JSON.parse(JSON.stringify(value)) as unknown;

describe('query string parsing', () => {
  it('reads flat parameters as Express does by default: repeats become arrays, + is a space', () => {
    expect(plain(parseQueryString('limit=5&to=+14155550100&status=a&status=b'))).toEqual({
      limit: '5',
      to: ' 14155550100',
      status: ['a', 'b'],
    });
    expect(plain(parseQueryString('a=&b'))).toEqual({ a: '', b: '' });
  });

  it('makes one level of brackets an object (deepObject), encoded or not', () => {
    expect(plain(parseQueryString('metadata[conversation_id]=c1&metadata%5Bcustomer%5D=u%202'))).toEqual({
      metadata: { conversation_id: 'c1', customer: 'u 2' },
    });
  });

  it('never makes arrays from brackets, keeps deeper brackets in the key and prototype names as data', () => {
    expect(plain(parseQueryString('metadata[0]=a&metadata[1]=b'))).toEqual({ metadata: { '0': 'a', '1': 'b' } });
    expect(plain(parseQueryString('metadata[]=b'))).toEqual({ metadata: { '0': 'b' } });
    expect(plain(parseQueryString('metadata[a][b]=c'))).toEqual({ metadata: { a: { '[b]': 'c' } } });
    expect(plain(parseQueryString('metadata[toString]=x&hasOwnProperty=y'))).toEqual({ metadata: { toString: 'x' }, hasOwnProperty: 'y' });
  });
});
