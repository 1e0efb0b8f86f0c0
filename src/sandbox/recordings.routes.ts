import { Router } from 'express';
import type { SandboxContext } from './sandbox-context';
import { notFound } from './wire';
import { toneWav } from './wav';

/** Recording media, served without auth like Twilio's default (public media URLs). */
export function recordingMediaRoutes(ctx: SandboxContext): Router {
  const router = Router({ mergeParams: true });
  router.get('/Recordings/:file', (req, res, next) => {
    const file = String(req.params.file);
    if (file.endsWith('.json')) return next();
    const recording = ctx.state.recordings.get(file.replace(/\.wav$/, ''));
    if (!recording || file.endsWith('.mp3')) throw notFound(`/Recordings/${file}`);
    res.status(200).type('audio/x-wav').send(toneWav(recording.duration));
  });
  return router;
}

export function recordingRoutes(ctx: SandboxContext): Router {
  const router = Router({ mergeParams: true });
  router.get('/Recordings/:file', (req, res) => {
    const recording = ctx.state.recordings.get(String(req.params.file).replace(/\.json$/, ''));
    if (!recording) throw notFound(`/Recordings/${req.params.file}`);
    res.status(200).json(ctx.views.recording(recording, 0));
  });
  return router;
}
