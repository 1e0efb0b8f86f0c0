import { DEFAULT_WINDOW } from './calling-window';
import { escapeXml, renderTemplate } from '../common/template';
import { importRecipients } from './campaign-import';

const rules = (over: Partial<Parameters<typeof importRecipients>[1]> = {}) => ({
  template: 'Hi {{ name }}',
  escape: (v: string) => v,
  maxContentLength: 100,
  window: DEFAULT_WINDOW,
  optedOut: new Set<string>(),
  now: new Date('2026-12-07T18:00:00Z'),
  ...over,
});

describe('campaign import', () => {
  it('fills variables, escaping them for the content kind, and names the missing ones', () => {
    expect(renderTemplate('<Say>{{a}}</Say>', { a: 'Tom & <Jerry>' }, escapeXml)).toBe('<Say>Tom &amp; &lt;Jerry&gt;</Say>');
    expect(renderTemplate('{{a}} {{b}} {{c}}', { a: '1' })).toEqual({ missing: ['b', 'c'] });
  });

  it('skips each bad row with its reason and keeps the others', () => {
    const rows = importRecipients(
      [
        { to: '+14155550100', variables: { name: 'Ann' } },
        { to: '+14155550100', variables: { name: 'Ann' } },
        { to: '555', variables: { name: 'x' } },
        'not an object',
        { to: '+14155550101' },
        { to: '+14155550102', variables: { name: 'Opt' } },
        { to: '+14155550103', variables: { name: { nested: true } } },
        { to: '+14155550104', variables: { name: 'M' }, metadata: { campaign_id: 'mine' } },
        { to: '+14155550105', variables: { name: 'x'.repeat(200) } },
      ],
      rules({ optedOut: new Set(['+14155550102']) }),
    );
    expect(rows.map((r) => r.skipReason)).toEqual([
      null,
      'duplicate',
      'invalid_number',
      'invalid_number',
      'missing_variable',
      'opted_out',
      'invalid_variables',
      'invalid_metadata',
      'content_too_long',
    ]);
    expect(rows[0]).toMatchObject({ to: '+14155550100', content: 'Hi Ann', timeZones: ['America/Los_Angeles'] });
  });
});
