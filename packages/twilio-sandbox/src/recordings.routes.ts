import { Router, type RequestHandler, type Response } from 'express';
import type { SandboxContext } from './sandbox-context';
import { notFound, one, page, queryOf } from './wire';
import { silentMp3 } from './mp3';
import { toneWav } from './wav';

/**
 * Recording media, served without auth like Twilio's default (public media URLs), with the API's
 * faults (`faults`), and in byte ranges: one range is a 206, one outside the file a 416, several
 * or a malformed one the whole file.
 */
export function recordingMediaRoutes(ctx: SandboxContext, faults: RequestHandler): Router {
  const router = Router({ mergeParams: true });
  router.get(
    '/Recordings/:file',
    (req, res, next) => (String(req.params.file).endsWith('.json') ? next('route') : faults(req, res, next)),
    (req, res) => {
      const file = String(req.params.file);
      const mp3 = file.endsWith('.mp3');
      const recording = ctx.state.recordings.get(file.replace(/\.(wav|mp3)$/, ''));
      if (!recording) throw notFound(`/Recordings/${file}`);
      const media = mp3 ? silentMp3(recording.duration) : toneWav(recording.duration);
      res.type(mp3 ? 'audio/mpeg' : 'audio/x-wav').set('Accept-Ranges', 'bytes');
      const ranges = req.headers.range ? req.range(media.length) : undefined;
      if (ranges === -1) {
        res.status(416).set('Content-Range', `bytes */${media.length}`).end();
        return;
      }
      if (Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1) {
        const { start, end } = ranges[0];
        res
          .status(206)
          .set('Content-Range', `bytes ${start}-${end}/${media.length}`)
          .send(media.subarray(start, end + 1));
        return;
      }
      res.status(200).send(media);
    },
  );
  return router;
}

export function recordingRoutes(ctx: SandboxContext): Router {
  const router = Router({ mergeParams: true });
  const list = (res: Response, path: string, query: ReturnType<typeof queryOf>, callSid: string | undefined, ofCall = false) => {
    const recordings = [...ctx.state.recordings.values()]
      .filter((r) => !callSid || r.callSid === callSid)
      .reverse()
      .map((r) => (ofCall ? ctx.views.callRecording(r, 0) : ctx.views.recording(r, 0)));
    res.status(200).json(page(path, 'recordings', recordings, query));
  };
  router.get('/Recordings.json', (req, res) => {
    const query = queryOf(req);
    list(res, `${ctx.views.root}/Recordings.json`, query, one(query, 'CallSid'));
  });
  router.get('/Calls/:sid/Recordings.json', (req, res) => {
    const callSid = String(req.params.sid);
    if (!ctx.state.calls.has(callSid)) throw notFound(`/Calls/${callSid}/Recordings.json`);
    list(res, `${ctx.views.root}/Calls/${callSid}/Recordings.json`, queryOf(req), callSid, true);
  });
  router.get('/Calls/:sid/Recordings/:file', (req, res) => {
    const callSid = String(req.params.sid);
    const recording = ctx.state.recordings.get(String(req.params.file).replace(/\.json$/, ''));
    if (recording?.callSid !== callSid) throw notFound(`/Calls/${callSid}/Recordings/${req.params.file}`);
    res.status(200).json(ctx.views.callRecording(recording, 0));
  });
  router.get('/Recordings/:file', (req, res) => {
    const recording = ctx.state.recordings.get(String(req.params.file).replace(/\.json$/, ''));
    if (!recording) throw notFound(`/Recordings/${req.params.file}`);
    res.status(200).json(ctx.views.recording(recording, 0));
  });
  return router;
}
