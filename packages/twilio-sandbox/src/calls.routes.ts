import { Router } from 'express';
import { isMagic, MAGIC_SUCCESS, magicCallFrom, magicCallTo } from './magic-numbers';
import { isValidNumber } from './phone-inventory';
import { assertFunds, type SandboxContext } from './sandbox-context';
import { restCallStatus } from './resources';
import { TERMINAL_CALL_STATUSES, type SandboxCall } from './sandbox-state';
import { ApiError, bodyOf, bool, dateFilter, int, many, newSid, notFound, one, page, queryOf } from './wire';

function absoluteUrl(value: string | undefined, code = 21205): string | null {
  if (value === undefined || value === '') return null;
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') return value;
  } catch {
    // reported below
  }
  throw new ApiError(400, code, `Url is not a valid URL: ${value}`);
}

function machineDetection(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (value !== 'Enable' && value !== 'DetectMessageEnd') {
    throw new ApiError(400, 20001, `Invalid value for MachineDetection: ${value} (Enable or DetectMessageEnd)`);
  }
  return value;
}

function method(value: string | undefined): string {
  return (value ?? 'POST').toUpperCase() === 'GET' ? 'GET' : 'POST';
}

export function callsRoutes(ctx: SandboxContext): Router {
  const router = Router({ mergeParams: true });
  const path = () => `${ctx.views.root}/Calls.json`;
  const find = (sid: string) => {
    const call = ctx.state.calls.get(sid.replace(/\.json$/, ''));
    if (!call) throw notFound(`/Calls/${sid}`);
    return call;
  };

  router.post('/Calls.json', (req, res) => {
    const form = bodyOf(req);
    const to = one(form, 'To');
    const from = one(form, 'From');
    if (!to) throw new ApiError(400, 21201, "A 'To' phone number is required.");
    if (!from) throw new ApiError(400, 21213, "A 'From' phone number is required.");
    magicCallFrom(from);
    const owned = ctx.state.numberByPhone(from);
    if (!owned && from !== MAGIC_SUCCESS) {
      throw new ApiError(400, 21210, `The source phone number provided, ${from}, is not yet verified for your account.`);
    }
    magicCallTo(to);
    if (!isMagic(to) && !isValidNumber(to)) {
      throw new ApiError(400, 21217, `Phone number ${to} does not appear to be valid.`);
    }
    const url = absoluteUrl(one(form, 'Url'));
    const twiml = one(form, 'Twiml') ?? null;
    if (!url && !twiml) throw new ApiError(400, 21205, 'Either Url or Twiml is required.');
    assertFunds(ctx);
    const now = ctx.scheduler.now();
    const call: SandboxCall = {
      sid: newSid('CA'),
      to,
      from,
      direction: 'outbound-api',
      status: 'queued',
      dateCreated: now,
      dateUpdated: now,
      startTime: null,
      endTime: null,
      duration: null,
      price: null,
      queueTimeMs: 0,
      answeredBy: null,
      phoneNumberSid: owned?.sid ?? null,
      url,
      method: method(one(form, 'Method')),
      twiml: url ? null : twiml,
      fallbackUrl: absoluteUrl(one(form, 'FallbackUrl')),
      fallbackMethod: method(one(form, 'FallbackMethod')),
      statusCallback: absoluteUrl(one(form, 'StatusCallback'), 21609),
      statusCallbackMethod: method(one(form, 'StatusCallbackMethod')),
      statusCallbackEvents: many(form, 'StatusCallbackEvent'),
      timeout: int(form, 'Timeout', 60, 1, 600),
      record: bool(form, 'Record') ?? false,
      recordingStatusCallback: absoluteUrl(one(form, 'RecordingStatusCallback'), 21609),
      recordingStatusCallbackMethod: method(one(form, 'RecordingStatusCallbackMethod')),
      recordingStatusCallbackEvents: many(form, 'RecordingStatusCallbackEvent').length
        ? many(form, 'RecordingStatusCallbackEvent')
        : ['completed'],
      machineDetection: machineDetection(one(form, 'MachineDetection')),
      asyncAmd: bool(form, 'AsyncAmd') ?? false,
      asyncAmdStatusCallback: absoluteUrl(one(form, 'AsyncAmdStatusCallback'), 21609),
      asyncAmdStatusCallbackMethod: method(one(form, 'AsyncAmdStatusCallbackMethod')),
      machineDetectionTimeout: int(form, 'MachineDetectionTimeout', 30, 3, 59),
      sipResponseCode: null,
      sequenceNumber: 0,
      executed: [],
      recordingSids: [],
      talkSeconds: 0,
    };
    ctx.state.calls.set(call.sid, call);
    ctx.calls.placeOutbound(call);
    res.status(201).json(ctx.views.call(call));
  });

  router.get('/Calls.json', (req, res) => {
    const query = queryOf(req);
    const to = one(query, 'To');
    const from = one(query, 'From');
    const status = one(query, 'Status');
    const parent = one(query, 'ParentCallSid');
    const started = dateFilter(query, 'StartTime');
    const ended = dateFilter(query, 'EndTime');
    const calls = [...ctx.state.calls.values()]
      .filter((c) => (!to || c.to === to) && (!from || c.from === from) && (!status || restCallStatus(c) === status))
      .filter((c) => !parent || c.parentCallSid === parent)
      .filter((c) => started(c.startTime) && ended(c.endTime))
      .reverse()
      .map((c) => ctx.views.call(c));
    res.status(200).json(page(path(), 'calls', calls, query));
  });

  router.get('/Calls/:sid', (req, res) => {
    res.status(200).json(ctx.views.call(find(String(req.params.sid))));
  });

  router.post('/Calls/:sid', (req, res) => {
    const call = find(String(req.params.sid));
    const form = bodyOf(req);
    const status = one(form, 'Status');
    const url = absoluteUrl(one(form, 'Url'));
    const twiml = one(form, 'Twiml');
    if (url && twiml) throw new ApiError(400, 20001, 'Url and Twiml are mutually exclusive.');
    if (status && status !== 'completed' && status !== 'canceled') {
      throw new ApiError(400, 20001, `Invalid value for Status: ${status}`);
    }
    const terminal = TERMINAL_CALL_STATUSES.includes(call.status);
    if ((url || twiml) && terminal) throw new ApiError(400, 21220, 'Call is not in-progress. Cannot redirect.');
    const callback = absoluteUrl(one(form, 'StatusCallback'), 21609);
    if (callback) call.statusCallback = callback;
    if (status) {
      ctx.calls.hangUp(call, status as 'completed' | 'canceled');
    } else if (url || twiml) {
      call.url = url;
      call.twiml = url ? null : (twiml ?? null);
      if (one(form, 'Method')) call.method = method(one(form, 'Method'));
      call.dateUpdated = ctx.scheduler.now();
      ctx.calls.redirect(call);
    }
    res.status(200).json(ctx.views.call(call));
  });

  router.delete('/Calls/:sid', (req, res) => {
    const call = find(String(req.params.sid));
    if (!TERMINAL_CALL_STATUSES.includes(call.status)) {
      throw new ApiError(400, 21220, 'Cannot delete a call that is not finished.');
    }
    ctx.state.calls.delete(call.sid);
    res.status(204).end();
  });

  return router;
}
