import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { seededRandom } from './faults';

export interface Place {
  areaCode: string;
  locality: string;
  region: string;
  postalCode: string;
  lata: string;
  rateCenter: string;
  latitude: string;
  longitude: string;
}

const US_PLACES: Place[] = [
  {
    areaCode: '415',
    locality: 'San Francisco',
    region: 'CA',
    postalCode: '94103',
    lata: '722',
    rateCenter: 'SNFC CNTRL',
    latitude: '37.774900',
    longitude: '-122.419400',
  },
  {
    areaCode: '510',
    locality: 'Oakland',
    region: 'CA',
    postalCode: '94612',
    lata: '722',
    rateCenter: 'OKLD',
    latitude: '37.804400',
    longitude: '-122.271100',
  },
  {
    areaCode: '213',
    locality: 'Los Angeles',
    region: 'CA',
    postalCode: '90012',
    lata: '730',
    rateCenter: 'LSAN DA 01',
    latitude: '34.052200',
    longitude: '-118.243700',
  },
  {
    areaCode: '212',
    locality: 'New York',
    region: 'NY',
    postalCode: '10007',
    lata: '132',
    rateCenter: 'NWYRCYZN01',
    latitude: '40.712800',
    longitude: '-74.006000',
  },
  {
    areaCode: '312',
    locality: 'Chicago',
    region: 'IL',
    postalCode: '60602',
    lata: '358',
    rateCenter: 'CHCGOZN1',
    latitude: '41.878100',
    longitude: '-87.629800',
  },
  {
    areaCode: '206',
    locality: 'Seattle',
    region: 'WA',
    postalCode: '98104',
    lata: '674',
    rateCenter: 'SEATTLE',
    latitude: '47.606200',
    longitude: '-122.332100',
  },
  {
    areaCode: '617',
    locality: 'Boston',
    region: 'MA',
    postalCode: '02108',
    lata: '128',
    rateCenter: 'BOSTON',
    latitude: '42.360100',
    longitude: '-71.058900',
  },
  {
    areaCode: '512',
    locality: 'Austin',
    region: 'TX',
    postalCode: '78701',
    lata: '558',
    rateCenter: 'AUSTIN',
    latitude: '30.267200',
    longitude: '-97.743100',
  },
  {
    areaCode: '305',
    locality: 'Miami',
    region: 'FL',
    postalCode: '33130',
    lata: '460',
    rateCenter: 'MIAMI',
    latitude: '25.761700',
    longitude: '-80.191800',
  },
  {
    areaCode: '808',
    locality: 'Hilo',
    region: 'HI',
    postalCode: '96720',
    lata: '834',
    rateCenter: 'HILO',
    latitude: '19.720000',
    longitude: '-155.090000',
  },
  {
    areaCode: '720',
    locality: 'Denver',
    region: 'CO',
    postalCode: '80202',
    lata: '656',
    rateCenter: 'DENVER',
    latitude: '39.739200',
    longitude: '-104.990300',
  },
];

const CA_PLACES: Place[] = [
  {
    areaCode: '604',
    locality: 'Vancouver',
    region: 'BC',
    postalCode: 'V6B',
    lata: '888',
    rateCenter: 'VANCOUVER',
    latitude: '49.282700',
    longitude: '-123.120700',
  },
  {
    areaCode: '416',
    locality: 'Toronto',
    region: 'ON',
    postalCode: 'M5H',
    lata: '888',
    rateCenter: 'TORONTO',
    latitude: '43.653200',
    longitude: '-79.383200',
  },
  {
    areaCode: '514',
    locality: 'Montreal',
    region: 'QC',
    postalCode: 'H2Y',
    lata: '888',
    rateCenter: 'MONTREAL',
    latitude: '45.501700',
    longitude: '-73.567300',
  },
];

const TOLL_FREE_PREFIXES = ['800', '833', '844', '855', '866', '877', '888'];

export type NumberType = 'Local' | 'TollFree' | 'Mobile';
export const COUNTRIES = ['US', 'CA', 'GB'] as const;

export interface AvailableNumber {
  phoneNumber: string;
  friendlyName: string;
  place: Place | null;
  isoCountry: string;
  capabilities: { voice: boolean; SMS: boolean; MMS: boolean };
}

export function placeForAreaCode(areaCode: string): Place | null {
  return [...US_PLACES, ...CA_PLACES].find((p) => p.areaCode === areaCode) ?? null;
}

export function isValidNumber(e164: string): boolean {
  if (!/^\+[1-9]\d{6,14}$/.test(e164)) return false;
  const parsed = parsePhoneNumberFromString(e164);
  return !!parsed && parsed.isValid();
}

export function friendlyName(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  return parsed ? parsed.formatNational() : e164;
}

const KEYPAD: Record<string, string> = {};
['', '', 'ABC', 'DEF', 'GHI', 'JKL', 'MNO', 'PQRS', 'TUV', 'WXYZ'].forEach((letters, digit) => {
  for (const l of letters) KEYPAD[l] = String(digit);
});

/** Twilio's Contains pattern: digits or letters (keypad), `*` one digit, `%` any run, `+` / `$` anchors. */
export function containsMatcher(pattern: string): (e164: string, national: string) => boolean {
  const anchoredStart = pattern.startsWith('+');
  const anchoredEnd = pattern.endsWith('$');
  const core = pattern.replace(/^\+/, '').replace(/\$$/, '');
  const body = Array.from(core.toUpperCase())
    .map((c) => (c === '*' ? '\\d' : c === '%' ? '\\d*' : (KEYPAD[c] ?? c.replace(/[^0-9]/g, ''))))
    .join('');
  const regex = new RegExp(`${anchoredStart ? '^' : ''}${body}${anchoredEnd ? '$' : ''}`);
  return (e164, national) => (anchoredStart ? regex.test(e164.slice(1)) : regex.test(national));
}

function hashString(text: string): number {
  let h = 2166136261;
  for (const c of text) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
  return h >>> 0;
}

/**
 * The same seed gives the same numbers. Each area code offers its fictional 555-01xx block first,
 * then numbers from ordinary exchanges, all valid for libphonenumber-js.
 */
export class PhoneInventory {
  constructor(private readonly seed: number) {}

  places(country: string): Place[] {
    return country === 'US' ? US_PLACES : country === 'CA' ? CA_PLACES : [];
  }

  numbersFor(country: string, type: NumberType, areaCode?: string): AvailableNumber[] {
    if (country === 'GB') return type === 'Mobile' ? this.gbMobile() : [];
    if (country !== 'US' && country !== 'CA') return [];
    if (type === 'TollFree') {
      const prefixes = areaCode ? TOLL_FREE_PREFIXES.filter((p) => p === areaCode) : TOLL_FREE_PREFIXES;
      return prefixes.flatMap((prefix) => this.block(prefix, null, country, 'TollFree'));
    }
    const places = this.places(country).filter((p) => !areaCode || p.areaCode === areaCode);
    if (areaCode && places.length === 0 && country === 'US' && /^[2-9]\d{2}$/.test(areaCode)) {
      return this.block(areaCode, null, country, type);
    }
    return places.flatMap((place) => this.block(place.areaCode, place, country, type));
  }

  private block(npa: string, place: Place | null, country: string, type: NumberType): AvailableNumber[] {
    const random = seededRandom(this.seed ^ hashString(`${country}${npa}${type}`));
    const numbers: AvailableNumber[] = [];
    const add = (e164: string) => {
      if (!isValidNumber(e164) || numbers.some((n) => n.phoneNumber === e164)) return;
      const index = numbers.length;
      const smsless = type === 'Local' && index % 10 === 9;
      numbers.push({
        phoneNumber: e164,
        friendlyName: friendlyName(e164),
        place,
        isoCountry: country,
        capabilities: { voice: true, SMS: !smsless, MMS: type !== 'TollFree' && !smsless && index % 4 !== 3 },
      });
    };
    const fictional = Array.from({ length: 100 }, (_, i) => i);
    for (let i = fictional.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [fictional[i], fictional[j]] = [fictional[j], fictional[i]];
    }
    for (const line of fictional.slice(0, 40)) add(`+1${npa}55501${String(line).padStart(2, '0')}`);
    for (let i = 0; i < 40; i++) {
      const exchange = 200 + Math.floor(random() * 800);
      if (exchange === 555 || exchange % 100 === 11) continue;
      add(`+1${npa}${exchange}${String(Math.floor(random() * 10000)).padStart(4, '0')}`);
    }
    return numbers;
  }

  private gbMobile(): AvailableNumber[] {
    const random = seededRandom(this.seed ^ hashString('GBMobile'));
    const numbers: AvailableNumber[] = [];
    for (let i = 0; numbers.length < 40 && i < 400; i++) {
      const e164 = `+447${String(400000000 + Math.floor(random() * 599999999)).padStart(9, '0')}`;
      if (!isValidNumber(e164) || numbers.some((n) => n.phoneNumber === e164)) continue;
      numbers.push({
        phoneNumber: e164,
        friendlyName: friendlyName(e164),
        place: null,
        isoCountry: 'GB',
        capabilities: { voice: true, SMS: true, MMS: false },
      });
    }
    return numbers;
  }
}
