import { Router } from 'express';
import { isMagic, MAGIC_SUCCESS, magicSmsFrom, magicSmsTo } from './magic-numbers';
import { isValidNumber } from './phone-inventory';
import { assertFunds, type SandboxContext } from './sandbox-context';
import type { SandboxMessage } from './sandbox-state';
import { countSegments } from './segments';
import { ApiError, bodyOf, dateFilter, many, newSid, notFound, one, page, queryOf } from './wire';

export interface NewMessage {
  to: string;
  from: string;
  body: string;
  mediaUrls: string[];
  statusCallback: string | null;
  direction: SandboxMessage['direction'];
}

export function createMessage(ctx: SandboxContext, input: NewMessage): SandboxMessage {
  const now = ctx.scheduler.now();
  const { segments, encoding } = countSegments(input.body);
  const message: SandboxMessage = {
    sid: newSid(input.mediaUrls.length ? 'MM' : 'SM'),
    ...input,
    mediaSids: input.mediaUrls.map(() => newSid('ME')),
    status: input.direction === 'inbound' ? 'received' : 'queued',
    numSegments: segments,
    encoding,
    errorCode: null,
    errorMessage: null,
    price: null,
    dateCreated: now,
    dateUpdated: now,
    dateSent: input.direction === 'inbound' ? now : null,
  };
  ctx.state.messages.set(message.sid, message);
  if (input.direction !== 'inbound') ctx.messages.send(message);
  return message;
}

export function messagesRoutes(ctx: SandboxContext): Router {
  const router = Router({ mergeParams: true });

  router.post('/Messages.json', (req, res) => {
    const form = bodyOf(req);
    const to = one(form, 'To');
    const from = one(form, 'From');
    const body = one(form, 'Body') ?? '';
    const mediaUrls = many(form, 'MediaUrl');
    if (!to) throw new ApiError(400, 21604, "A 'To' phone number is required.");
    if (!from) throw new ApiError(400, 21603, "A 'From' phone number is required.");
    if (!body && mediaUrls.length === 0) throw new ApiError(400, 21619, 'A text message body or media urls must be specified.');
    if (body.length > 1600) throw new ApiError(400, 21617, 'The concatenated message body exceeds the 1600 character limit.');
    magicSmsFrom(from);
    if (from !== MAGIC_SUCCESS && !ctx.state.numberByPhone(from)) {
      throw new ApiError(
        400,
        21606,
        `The 'From' phone number provided (${from}) is not a valid message-capable Twilio phone number for this destination.`,
      );
    }
    magicSmsTo(to);
    if (!isMagic(to) && !isValidNumber(to)) throw new ApiError(400, 21211, `Invalid 'To' Phone Number: ${to}`);
    for (const url of mediaUrls) {
      if (!/^https?:\/\//.test(url)) throw new ApiError(400, 21620, `Invalid media URL(s): ${url}`);
    }
    assertFunds(ctx);
    const callback = one(form, 'StatusCallback');
    if (callback && !/^https?:\/\//.test(callback)) throw new ApiError(400, 21609, `Invalid StatusCallback: ${callback}`);
    const message = createMessage(ctx, { to, from, body, mediaUrls, statusCallback: callback ?? null, direction: 'outbound-api' });
    res.status(201).json(ctx.views.message(message));
  });

  router.get('/Messages.json', (req, res) => {
    const query = queryOf(req);
    const to = one(query, 'To');
    const from = one(query, 'From');
    const sent = dateFilter(query, 'DateSent');
    const messages = [...ctx.state.messages.values()]
      .filter((m) => (!to || m.to === to) && (!from || m.from === from) && sent(m.dateSent))
      .reverse()
      .map((m) => ctx.views.message(m));
    res.status(200).json(page(`${ctx.views.root}/Messages.json`, 'messages', messages, query));
  });

  const findMessage = (sid: string, path: string) => {
    const message = ctx.state.messages.get(sid);
    if (!message) throw notFound(path);
    return message;
  };

  router.get('/Messages/:sid/Media.json', (req, res) => {
    const sid = String(req.params.sid);
    const path = `/Messages/${sid}/Media.json`;
    const message = findMessage(sid, path);
    const media = message.mediaSids.map((_, i) => ctx.views.media(message, i));
    res.status(200).json(page(`${ctx.views.root}${path}`, 'media_list', media, queryOf(req)));
  });

  router.get('/Messages/:sid/Media/:mediaSid', (req, res) => {
    const sid = String(req.params.sid);
    const path = `/Messages/${sid}/Media/${req.params.mediaSid}`;
    const message = findMessage(sid, path);
    const index = message.mediaSids.indexOf(String(req.params.mediaSid).replace(/\.json$/, ''));
    if (index < 0) throw notFound(path);
    res.status(200).json(ctx.views.media(message, index));
  });

  router.get('/Messages/:sid', (req, res) => {
    const message = ctx.state.messages.get(String(req.params.sid).replace(/\.json$/, ''));
    if (!message) throw notFound(`/Messages/${req.params.sid}`);
    res.status(200).json(ctx.views.message(message));
  });

  return router;
}
