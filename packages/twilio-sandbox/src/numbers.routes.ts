import { Router } from 'express';
import { MAGIC_SUCCESS, isMagic } from './magic-numbers';
import { containsMatcher, friendlyName, isValidNumber, placeForAreaCode, type AvailableNumber, type NumberType } from './phone-inventory';
import type { SandboxContext } from './sandbox-context';
import type { SandboxNumber } from './sandbox-state';
import { ApiError, bodyOf, bool, newSid, notFound, one, page, queryOf, type Form } from './wire';

const TYPES: Record<string, NumberType> = { 'Local.json': 'Local', 'TollFree.json': 'TollFree', 'Mobile.json': 'Mobile' };

function urlParam(form: Form, key: string): string | null | undefined {
  const value = one(form, key);
  if (value === undefined) return undefined;
  if (value === '') return null;
  if (!/^https?:\/\/[^\s]+$/.test(value)) throw new ApiError(400, 21502, `${key} is not a valid URL: ${value}`);
  return value;
}

function methodParam(form: Form, key: string): string | undefined {
  const value = one(form, key);
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (upper !== 'GET' && upper !== 'POST') throw new ApiError(400, 21503, `${key} must be GET or POST`);
  return upper;
}

/** Applies the writable fields shared by purchase and update. */
function applySettings(number: SandboxNumber, form: Form): void {
  const set = <K extends keyof SandboxNumber>(field: K, value: SandboxNumber[K] | undefined) => {
    if (value !== undefined) number[field] = value;
  };
  set('friendlyName', one(form, 'FriendlyName'));
  set('voiceUrl', urlParam(form, 'VoiceUrl'));
  set('voiceMethod', methodParam(form, 'VoiceMethod'));
  set('voiceFallbackUrl', urlParam(form, 'VoiceFallbackUrl'));
  set('voiceFallbackMethod', methodParam(form, 'VoiceFallbackMethod'));
  set('smsUrl', urlParam(form, 'SmsUrl'));
  set('smsMethod', methodParam(form, 'SmsMethod'));
  set('smsFallbackUrl', urlParam(form, 'SmsFallbackUrl'));
  set('smsFallbackMethod', methodParam(form, 'SmsFallbackMethod'));
  set('statusCallback', urlParam(form, 'StatusCallback'));
  set('statusCallbackMethod', methodParam(form, 'StatusCallbackMethod'));
}

export function provisionNumber(ctx: SandboxContext, phoneNumber: string, form: Form = {}): SandboxNumber {
  const now = ctx.scheduler.now();
  const number: SandboxNumber = {
    sid: newSid('PN'),
    phoneNumber,
    friendlyName: friendlyName(phoneNumber),
    voiceUrl: null,
    voiceMethod: 'POST',
    voiceFallbackUrl: null,
    voiceFallbackMethod: 'POST',
    smsUrl: null,
    smsMethod: 'POST',
    smsFallbackUrl: null,
    smsFallbackMethod: 'POST',
    statusCallback: null,
    statusCallbackMethod: 'POST',
    capabilities: { voice: true, sms: true, mms: true, fax: false },
    dateCreated: now,
    dateUpdated: now,
  };
  applySettings(number, form);
  ctx.state.numbers.set(number.sid, number);
  return number;
}

export function numbersRoutes(ctx: SandboxContext): Router {
  const router = Router({ mergeParams: true });

  const available = (country: string, type: NumberType, query: Form): AvailableNumber[] => {
    const areaCode = one(query, 'AreaCode');
    if (areaCode !== undefined && !/^\d{3}$/.test(areaCode)) throw new ApiError(400, 21451, `Invalid area code: ${areaCode}`);
    const contains = one(query, 'Contains');
    const matches = contains ? containsMatcher(contains) : () => true;
    const wants = (flag: string, has: boolean) => {
      const wanted = bool(query, flag);
      return wanted === undefined || wanted === has;
    };
    return ctx.inventory
      .numbersFor(country, type, areaCode)
      .filter((n) => !ctx.state.numberByPhone(n.phoneNumber))
      .filter((n) => matches(n.phoneNumber, n.phoneNumber.startsWith('+1') ? n.phoneNumber.slice(2) : n.phoneNumber.slice(3)))
      .filter(
        (n) =>
          wants('VoiceEnabled', n.capabilities.voice) && wants('SmsEnabled', n.capabilities.SMS) && wants('MmsEnabled', n.capabilities.MMS),
      );
  };

  router.get('/AvailablePhoneNumbers/:country/:type', (req, res) => {
    const country = String(req.params.country).toUpperCase();
    const type = TYPES[String(req.params.type)];
    if (!type || !['US', 'CA', 'GB'].includes(country)) throw notFound(req.path);
    const query = queryOf(req);
    const records = available(country, type, query).map((n) => ({
      friendly_name: n.friendlyName,
      phone_number: n.phoneNumber,
      lata: n.place?.lata ?? null,
      locality: n.place?.locality ?? null,
      rate_center: n.place?.rateCenter ?? null,
      latitude: n.place?.latitude ?? null,
      longitude: n.place?.longitude ?? null,
      region: n.place?.region ?? null,
      postal_code: n.place?.postalCode ?? null,
      iso_country: n.isoCountry,
      address_requirements: 'none',
      beta: false,
      capabilities: n.capabilities,
    }));
    const path = `${ctx.views.root}/AvailablePhoneNumbers/${country}/${req.params.type}`;
    res.status(200).json(page(path, 'available_phone_numbers', records, query));
  });

  router.post('/IncomingPhoneNumbers.json', (req, res) => {
    const form = bodyOf(req);
    const requested = one(form, 'PhoneNumber');
    const areaCode = one(form, 'AreaCode');
    let phoneNumber: string;
    if (requested) {
      if (requested === '+15005550000') throw new ApiError(400, 21422, `PhoneNumber ${requested} is not available.`);
      if (requested !== MAGIC_SUCCESS && (isMagic(requested) || !isValidNumber(requested))) {
        throw new ApiError(400, 21421, `PhoneNumber ${requested} is invalid.`);
      }
      if (ctx.state.numberByPhone(requested)) throw new ApiError(400, 21422, `PhoneNumber ${requested} is not available.`);
      phoneNumber = requested;
    } else if (areaCode) {
      if (!/^\d{3}$/.test(areaCode)) throw new ApiError(400, 21451, `Invalid area code: ${areaCode}`);
      if (areaCode === '500' && !ctx.state.numberByPhone(MAGIC_SUCCESS)) {
        phoneNumber = MAGIC_SUCCESS;
      } else {
        const country = /^(BC|ON|QC)$/.test(placeForAreaCode(areaCode)?.region ?? '') ? 'CA' : 'US';
        const candidate = areaCode === '533' ? undefined : available(country, 'Local', { AreaCode: areaCode })[0];
        if (!candidate) throw new ApiError(400, 21452, `No phone numbers found in area code ${areaCode}.`);
        phoneNumber = candidate.phoneNumber;
      }
    } else {
      throw new ApiError(400, 21450, 'You must provide an area_code or a phone_number.');
    }
    const number = provisionNumber(ctx, phoneNumber, form);
    ctx.state.charge('phonenumbers', number.dateCreated, 1, 1, ctx.pricing.numberPerMonth);
    res.status(201).json(ctx.views.number(number));
  });

  router.get('/IncomingPhoneNumbers.json', (req, res) => {
    const query = queryOf(req);
    const phone = one(query, 'PhoneNumber');
    const name = one(query, 'FriendlyName');
    const pattern = phone
      ? new RegExp(
          phone
            .replace(/[^0-9*+]/g, '')
            .replace(/\+/g, '\\+')
            .replace(/\*/g, '\\d'),
        )
      : null;
    const numbers = [...ctx.state.numbers.values()]
      .filter((n) => (!pattern || pattern.test(n.phoneNumber)) && (!name || n.friendlyName === name))
      .map((n) => ctx.views.number(n));
    res.status(200).json(page(`${ctx.views.root}/IncomingPhoneNumbers.json`, 'incoming_phone_numbers', numbers, query));
  });

  const find = (sid: string) => {
    const number = ctx.state.numbers.get(sid.replace(/\.json$/, ''));
    if (!number) throw notFound(`/IncomingPhoneNumbers/${sid}`);
    return number;
  };

  router.get('/IncomingPhoneNumbers/:sid', (req, res) => {
    res.status(200).json(ctx.views.number(find(String(req.params.sid))));
  });

  router.post('/IncomingPhoneNumbers/:sid', (req, res) => {
    const number = find(String(req.params.sid));
    applySettings(number, bodyOf(req));
    number.dateUpdated = ctx.scheduler.now();
    res.status(200).json(ctx.views.number(number));
  });

  router.delete('/IncomingPhoneNumbers/:sid', (req, res) => {
    const number = find(String(req.params.sid));
    ctx.state.numbers.delete(number.sid);
    res.status(204).end();
  });

  return router;
}
