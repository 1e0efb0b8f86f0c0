import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/** `req.id` is declared by pino-http's typings; it holds our string id. */
export type RequestWithId = Request;

/** Gives every request an id (the caller's X-Request-Id when it is sane) and echoes it back. */
export function requestIdMiddleware(req: Request, res: Response, next: NextFunction): void {
  const incoming = req.header('x-request-id');
  const id = incoming && SAFE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  (req as { id?: unknown }).id = id;
  res.setHeader('X-Request-Id', id);
  next();
}

export function requestIdOf(req: IncomingMessage): string {
  const holder = req as { id?: unknown };
  if (typeof holder.id === 'string') return holder.id;
  const id = randomUUID();
  holder.id = id;
  return id;
}
